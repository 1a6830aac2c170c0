// From a parsed CloudEvent to a copy request: the type must be ours and the data a valid request.
// Both entries (HTTP and the JobSink file) go through here, so they refuse the same events with
// the same reasons.
import type { Incoming } from '#shared/cloudevents.ts';
import { COPY_EVENT_TYPE, type CopyRequest, parseCopyRequest } from '#shared/copy-request.ts';
import type { Result } from '#shared/result.ts';

export type DecodeResult = Result<CopyRequest>;

export function decodeCopyEvent(event: Incoming): DecodeResult {
  if (event.type !== COPY_EVENT_TYPE) {
    return {
      ok: false,
      error: `unexpected event type ${JSON.stringify(event.type)} (want ${COPY_EVENT_TYPE})`,
    };
  }
  let data = event.data;
  // A structured event re-serialised by a Go sender (the JobSink's file) may carry the JSON as
  // bytes (`data_base64`).
  if (data instanceof Uint8Array) data = new TextDecoder().decode(data);
  if (typeof data === 'string') {
    try {
      data = JSON.parse(data);
    } catch {
      return { ok: false, error: 'copy event data is not JSON' };
    }
  }
  return parseCopyRequest(data);
}
