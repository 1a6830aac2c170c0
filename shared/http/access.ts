// One place where a function's HTTP app gets the access checks its environment asks for
// (docs/security.md): the trigger (POST /) behind sender authentication (sender-auth.ts), the
// metrics and status pages behind reader authentication (reader-auth.ts). Both off by default.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Hono } from 'hono';
import type { Logger } from '../log.ts';
import { readerAuthFromEnv, requireReader } from './reader-auth.ts';
import { requireSender, senderAuthFromEnv } from './sender-auth.ts';

export function guarded(
  app: Hono,
  env: NodeJS.ProcessEnv,
  kc: KubeConfig,
  log: Logger,
  opts: { trigger: boolean } = { trigger: true },
): { app: Hono; senderAuth: boolean; metricsAuth: boolean } {
  let out = app;
  const sender = opts.trigger ? senderAuthFromEnv(env, kc) : undefined;
  if (sender) out = requireSender(out, sender, (reason) => log.warn({ reason }, 'refused sender'));
  const reader = readerAuthFromEnv(env, kc);
  if (reader) out = requireReader(out, reader);
  return { app: out, senderAuth: sender !== undefined, metricsAuth: reader !== undefined };
}
