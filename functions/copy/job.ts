// The copy as a Job behind a Knative JobSink (knative notes §3.5): the JobSink mounts the event,
// a structured-mode JSON CloudEvent, at `$K_EVENT_PATH/event`; the Job copies, writes status and
// exits. The exit code is the Job's verdict:
//   0  done (mirrored, tolerated, already mirrored, or nothing to do any more);
//   1  the copy failed or was stopped: let the Job retry (it resumes the recorded uploads);
//   2  the event itself is unusable, or names Secrets it may not use: retrying cannot help (a
//      podFailurePolicy can FailJob on it).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseCloudEvent } from '#shared/cloudevents.ts';
import { errorMessage } from '#shared/errors.ts';
import { untrusted } from '#shared/log.ts';
import { decodeCopyEvent } from './event.ts';
import { type CopyDeps, type CopyOutcome, handleCopy } from './handle.ts';

export const EXIT_DONE = 0;
export const EXIT_RETRY = 1;
export const EXIT_INVALID = 2;

const DONE: readonly CopyOutcome[] = ['mirrored', 'tolerated', 'already-mirrored', 'gone', 'stale'];

/** Reads `<dir>/event`, runs the copy; resolves with the exit code. */
export async function runJob(eventDir: string, deps: CopyDeps): Promise<number> {
  const file = join(eventDir, 'event');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    deps.log.error({ file, err: errorMessage(err) }, 'cannot read the JobSink event');
    return EXIT_INVALID;
  }
  const parsed = parseCloudEvent({ 'content-type': 'application/cloudevents+json' }, text);
  const decoded = parsed.ok ? decodeCopyEvent(parsed.value) : parsed;
  if (!decoded.ok) {
    deps.log.error({ file, error: untrusted(decoded.error) }, 'refused event');
    return EXIT_INVALID;
  }
  try {
    const r = await handleCopy(decoded.value, deps);
    if (r.outcome === 'refused') return EXIT_INVALID;
    return DONE.includes(r.outcome) ? EXIT_DONE : EXIT_RETRY;
  } catch (err) {
    deps.log.error({ err: untrusted(errorMessage(err)) }, 'copy job failed');
    return EXIT_RETRY;
  }
}
