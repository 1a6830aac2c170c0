// Request bodies of a given size, written the way a large upload is: in chunks, waiting for
// 'drain' when the socket is full, so a server that answers early (413, 408) sees a client
// still sending rather than one that buffered everything.
import type { ClientRequest } from 'node:http';

/** Writes `size` bytes of 'a' to `req` in `chunkBytes` chunks, then ends it; stops if it is destroyed. */
export function writeBody(req: ClientRequest, size: number, chunkBytes = 64 * 1024): void {
  const chunk = Buffer.alloc(chunkBytes, 0x61);
  let sent = 0;
  const pump = () => {
    while (sent < size && !req.destroyed) {
      const n = Math.min(chunk.length, size - sent);
      sent += n;
      if (!req.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void req.once('drain', pump);
    }
    req.end();
  };
  pump();
}
