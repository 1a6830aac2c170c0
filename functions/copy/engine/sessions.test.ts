import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SessionBook, type UploadRecord } from './sessions.ts';

const MiB = 1024 * 1024;
const rec = (digest: string, offset: number): UploadRecord => ({
  digest,
  location: `https://r/${digest}`,
  offset,
});

describe('SessionBook', () => {
  it('writes at most once per threshold of uploaded bytes, with every session in progress', async () => {
    const writes: UploadRecord[][] = [];
    const book = new SessionBook({ persist: async (r) => void writes.push(r), everyBytes: 64 * MiB });
    await book.progress(rec('sha256:b', 32 * MiB), 32 * MiB);
    assert.equal(writes.length, 0);
    await book.progress(rec('sha256:a', 32 * MiB), 32 * MiB);
    assert.deepEqual(writes, [[rec('sha256:a', 32 * MiB), rec('sha256:b', 32 * MiB)]]);
    book.finish('sha256:a');
    await book.progress(rec('sha256:b', 64 * MiB), 32 * MiB);
    assert.equal(writes.length, 1);
    await book.flush();
    assert.deepEqual(writes[1], [rec('sha256:b', 64 * MiB)]);
    assert.equal(book.written, true);
  });

  it('offers the sessions of an earlier run by digest', () => {
    const book = new SessionBook({ resume: [rec('sha256:a', 10)] });
    assert.deepEqual(book.resumable('sha256:a'), rec('sha256:a', 10));
    assert.equal(book.resumable('sha256:b'), undefined);
  });

  it('keeps copying when a write fails', async () => {
    const book = new SessionBook({
      persist: async () => {
        throw new Error('conflict');
      },
      everyBytes: 1,
    });
    await book.progress(rec('sha256:a', 1), 1);
    assert.match(String(book.lastError), /conflict/);
    assert.equal(book.written, false);
  });
});
