// A request body read straight from Node's IncomingMessage, bounded like `limitBody`. Hono's body
// limit and `c.req.json()` turn every request into a web Request with a ReadableStream over the
// socket's stream (then a TextDecoder, then the parse): on the router's admission path, where a
// review is ~3 KiB and each is one request, that was the largest part of the per-review cost that
// is not the decision itself (a CPU profile of the fallback steady state at 1 in flight, issue 16).
import type { IncomingMessage } from 'node:http';

/**
 * The whole body, or `undefined` once it passes `maxSize` bytes: at once when Content-Length says
 * so (nothing read), else as soon as the chunks received pass it (at most `maxSize` buffered).
 * What a client sends after that is read and dropped, so it can still read the answer.
 */
export function readBody(incoming: IncomingMessage, maxSize: number): Promise<Buffer | undefined> {
  const declared = incoming.headers['content-length'];
  if (declared !== undefined && incoming.headers['transfer-encoding'] === undefined) {
    if (Number.parseInt(declared, 10) > maxSize) return Promise.resolve(undefined);
  }
  return new Promise((resolve, reject) => {
    // Already consumed: no 'end' would come.
    if (incoming.readableEnded) return reject(new Error('request body already read'));
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      incoming.off('data', onData);
      incoming.off('end', onEnd);
      incoming.off('error', onError);
      incoming.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxSize) {
        done();
        // Keep the stream flowing with no listener: the rest is dropped, not buffered.
        incoming.resume();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      done();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onError = (err: Error) => {
      done();
      reject(err);
    };
    const onClose = () => {
      done();
      reject(new Error('request closed before its body ended'));
    };
    incoming.on('data', onData);
    incoming.on('end', onEnd);
    incoming.on('error', onError);
    incoming.on('close', onClose);
  });
}
