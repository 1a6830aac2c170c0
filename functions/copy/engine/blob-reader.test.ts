import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { type OpenAt, SourceBlobReader } from './blob-reader.ts';

const blob = randomBytes(100_000);
const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;

/** A source that serves `blob` from an offset in 7 KiB pieces and breaks at the given byte positions. */
function flakySource(breakAt: number[] = []) {
  const opened: number[] = [];
  const open: OpenAt = async (offset) => {
    opened.push(offset);
    return (async function* () {
      for (let p = offset; p < blob.length; ) {
        const end = Math.min(p + 7 * 1024, blob.length);
        const cut = breakAt.find((b) => b > p && b <= end);
        if (cut !== undefined) {
          breakAt.splice(breakAt.indexOf(cut), 1);
          yield blob.subarray(p, cut);
          throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
        }
        yield blob.subarray(p, end);
        p = end;
      }
    })();
  };
  return { open, opened };
}

async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const p of it) parts.push(p);
  return Buffer.concat(parts);
}

describe('SourceBlobReader', () => {
  it('hands out exact-size pieces and the digest of the whole blob', async () => {
    const src = flakySource();
    const r = new SourceBlobReader({ open: src.open, size: blob.length });
    const a = await collect(r.take(30_000));
    const b = await collect(r.take(30_000));
    const c = await collect(r.take(1_000_000));
    assert.equal(a.length, 30_000);
    assert.equal(b.length, 30_000);
    assert.equal(c.length, 40_000);
    assert.ok(Buffer.concat([a, b, c]).equals(blob));
    assert.equal(r.digest(), digest);
    assert.deepEqual(src.opened, [0]);
  });

  it('re-opens at the byte it reached when the source breaks, reading nothing twice', async () => {
    const src = flakySource([12_345, 70_001]);
    const r = new SourceBlobReader({ open: src.open, size: blob.length });
    const out = Buffer.concat([await collect(r.take(50_000)), await collect(r.take(50_000))]);
    assert.ok(out.equals(blob));
    assert.deepEqual(src.opened, [0, 12_345, 70_001]);
    assert.equal(r.stats.reopens, 2);
    assert.equal(r.stats.bytesRead, blob.length);
    assert.equal(r.digest(), digest);
  });

  it('starts at an offset for a resumed upload, without a digest of its own', async () => {
    const src = flakySource();
    const r = new SourceBlobReader({ open: src.open, size: blob.length, start: 60_000 });
    const out = await collect(r.take(blob.length));
    assert.ok(out.equals(blob.subarray(60_000)));
    assert.deepEqual(src.opened, [60_000]);
    assert.equal(r.digest(), undefined);
  });

  it('gives up after the allowed re-opens, or at once on a failure that is not retryable', async () => {
    const src = flakySource([1000, 2000, 3000]);
    const r = new SourceBlobReader({ open: src.open, size: blob.length, maxReopens: 2 });
    await assert.rejects(collect(r.take(blob.length)), /socket hang up/);
    const denied = new SourceBlobReader({
      open: async () => {
        throw new Error('401');
      },
      size: 10,
      retryable: () => false,
    });
    await assert.rejects(collect(denied.take(10)), /401/);
    assert.equal(denied.stats.reopens, 0);
  });

  it('re-opens when the source ends early', async () => {
    let first = true;
    const r = new SourceBlobReader({
      open: async (offset) =>
        (async function* () {
          if (first) {
            first = false;
            yield blob.subarray(offset, 500);
            return;
          }
          yield blob.subarray(offset);
        })(),
      size: blob.length,
    });
    assert.ok((await collect(r.take(blob.length))).equals(blob));
    assert.equal(r.stats.reopens, 1);
  });
});
