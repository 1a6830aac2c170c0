// §4.10: a mirror alternative answered NotFound, so the status that says it was mirrored is stale.
// Removing `mirroredAt` tells reconcile to copy it again. Runs detached from the admission, at most
// `maxConcurrent` at a time (a full semaphore drops the work: the next NotFound retries it), each
// within `timeoutMs`. The write is read-modify-write with a resourceVersion precondition, retried
// on conflict (kuik used two forced server-side applies); never on dry run (kuik did, a QUIRK).
import type { ImageSetMirrorStatus } from '#shared/crd/types.ts';
import { errorMessage } from '#shared/errors.ts';
import type { KuikRef } from '#shared/kube/client.ts';
import type { CrRef } from './alternatives.ts';

export interface StatusWriter {
  updateStatus<T extends { metadata?: { resourceVersion?: string }; status?: unknown }>(
    ref: KuikRef,
    mutate: (obj: T) => boolean,
  ): Promise<T | undefined>;
}

/** Removes `mirroredAt` from every mirror entry of `image`; false when there was nothing to clear. */
export function clearMirroredAt(status: ImageSetMirrorStatus | undefined, image: string): boolean {
  let changed = false;
  for (const entry of status?.matchingImages ?? []) {
    for (const m of entry.mirrors ?? []) {
      if (m.image === image && m.mirroredAt !== undefined) {
        delete m.mirroredAt;
        changed = true;
      }
    }
  }
  return changed;
}

export type StaleResult = {
  cr: CrRef;
  image: string;
  result: 'cleared' | 'unchanged' | 'dropped' | 'error';
  error?: string;
};

export class StaleMirrorClearer {
  readonly #writer: StatusWriter;
  readonly #max: number;
  readonly #timeoutMs: number;
  readonly #onResult: (r: StaleResult) => void;
  #running = 0;

  constructor(opts: {
    writer: StatusWriter;
    maxConcurrent: number;
    timeoutMs: number;
    onResult?: (r: StaleResult) => void;
  }) {
    this.#writer = opts.writer;
    this.#max = opts.maxConcurrent;
    this.#timeoutMs = opts.timeoutMs;
    this.#onResult = opts.onResult ?? (() => {});
  }

  /** Starts a clearing run, or drops it when the semaphore is full. Returns the run, if started. */
  signal(cr: CrRef, image: string): Promise<void> | undefined {
    if (this.#running >= this.#max) {
      this.#onResult({ cr, image, result: 'dropped' });
      return undefined;
    }
    this.#running++;
    const ref: KuikRef = {
      kind: cr.kind === 'ImageSetMirror' ? 'ImageSetMirror' : 'ClusterImageSetMirror',
      name: cr.name,
      namespace: cr.namespace,
    };
    let timer: NodeJS.Timeout | undefined;
    const work = this.#writer.updateStatus<{
      metadata?: { resourceVersion?: string; uid?: string };
      status?: ImageSetMirrorStatus;
    }>(ref, (obj) =>
      // A CR deleted and recreated under the same name is not the one we saw.
      obj.metadata?.uid === cr.uid ? clearMirroredAt(obj.status, image) : false,
    );
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${this.#timeoutMs} ms`)), this.#timeoutMs);
    });
    return Promise.race([work, deadline])
      .then((r) => this.#onResult({ cr, image, result: r === undefined ? 'unchanged' : 'cleared' }))
      .catch((err: unknown) => this.#onResult({ cr, image, result: 'error', error: errorMessage(err) }))
      .finally(() => {
        clearTimeout(timer);
        this.#running--;
      });
  }
}
