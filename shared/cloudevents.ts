// The one CloudEvent parser and sender. Incoming: the SDK's HTTP.toEvent, validated, data decoded;
// anything else is a typed error the caller answers with 400 (no retry). Outgoing: binary mode over
// fetch, failing loudly (the SDK's own httpTransport hides non-2xx answers).
import { CloudEvent, HTTP, ValidationError } from 'cloudevents';
import { errorMessage } from './errors.ts';
import type { Result } from './result.ts';

export interface Incoming {
  id: string;
  type: string;
  source: string;
  subject?: string;
  data: unknown;
  extensions: Record<string, unknown>;
}

export type ParseResult = Result<Incoming>;

export function parseCloudEvent(headers: Record<string, string>, body: string): ParseResult {
  let parsed: CloudEvent<unknown> | CloudEvent<unknown>[];
  try {
    parsed = HTTP.toEvent({ headers, body }) as CloudEvent<unknown> | CloudEvent<unknown>[];
  } catch (err) {
    return { ok: false, error: `not a CloudEvent: ${errorMessage(err)}` };
  }
  if (Array.isArray(parsed)) return { ok: false, error: 'batched CloudEvents are not supported' };
  // The SDK accepts any specversion string; every sender here speaks 1.0.
  if (parsed.specversion !== '1.0')
    return { ok: false, error: `unsupported CloudEvents specversion ${JSON.stringify(parsed.specversion)}` };
  try {
    parsed.validate();
  } catch (err) {
    const errors = err instanceof ValidationError ? err.errors : undefined;
    const detail = Array.isArray(errors) && errors.length > 0 ? `: ${JSON.stringify(errors)}` : '';
    return { ok: false, error: `invalid CloudEvent: ${errorMessage(err)}${detail}` };
  }
  let data: unknown = parsed.data;
  if (typeof data === 'string' && /^\s*[[{]/.test(data)) {
    try {
      data = JSON.parse(data);
    } catch {
      return { ok: false, error: 'CloudEvent data is not valid JSON' };
    }
  }
  const {
    id,
    type,
    source,
    subject,
    data: _d,
    data_base64: _b,
    specversion: _s,
    datacontenttype: _c,
    time: _t,
    ...extensions
  } = parsed as unknown as Record<string, unknown>;
  return {
    ok: true,
    value: {
      id: String(id),
      type: String(type),
      source: String(source),
      ...(typeof subject === 'string' ? { subject } : {}),
      data,
      extensions,
    },
  };
}

/** POSTs one CloudEvent in binary mode; throws when the sink does not answer 2xx. */
export async function sendCloudEvent(
  url: string,
  e: { id: string; type: string; source: string; subject?: string; data: unknown },
  signal?: AbortSignal,
  /** Extra headers (an Authorization for a sink that checks its senders). */
  headers: Record<string, string> = {},
): Promise<void> {
  const ce = new CloudEvent({ ...e, datacontenttype: 'application/json' });
  const msg = HTTP.binary(ce);
  const res = await fetch(url, {
    method: 'POST',
    headers: { ...(msg.headers as Record<string, string>), ...headers },
    body: msg.body as string,
    ...(signal ? { signal } : {}),
  });
  await res.body?.cancel();
  if (!res.ok) throw new Error(`sink ${url} answered ${res.status}`);
}
