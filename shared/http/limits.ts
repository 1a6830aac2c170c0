// What one function's HTTP servers take from the configuration's `server` section
// (docs/reliability.md): its own body limit, the shared timeouts, the TLS policy.
import type { Config, FunctionName } from '../config/config.ts';
import type { ServerTimeouts } from './serve.ts';
import type { TlsPolicy } from './tls-policy.ts';

export interface BodyLimit {
  bodyLimit?: number;
  bodyLimitKey?: string;
}

export function bodyLimitOf(config: Config, fn: FunctionName): Required<BodyLimit> {
  return { bodyLimit: config.server.bodyLimit[fn], bodyLimitKey: `server.bodyLimit.${fn}` };
}

export function timeoutsOf(config: Config): ServerTimeouts {
  return { headersTimeout: config.server.headersTimeout, requestTimeout: config.server.requestTimeout };
}

export function tlsPolicyOf(config: Config): TlsPolicy {
  return config.server.tls;
}
