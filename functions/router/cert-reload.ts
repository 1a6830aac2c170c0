// The webhook's serving certificate, reloaded when cert-manager (or anyone) rotates the files in
// place. The files are polled (mtimes of both); a pair is remembered as applied only once
// `setSecureContext` accepted it. A rotation seen half-way (the certificate written, its key not
// yet: the pair does not match and the context is refused) is tried again at the next poll, so the
// router ends up serving the new certificate. It used to record the new mtime before trying, and
// so kept the old certificate until the next rotation.

import { readFileSync, statSync } from 'node:fs';
import { errorMessage } from '#shared/errors.ts';
import type { Logger } from '#shared/log.ts';

export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

/** What changes when either file is rewritten. */
export function tlsFilesVersion(f: TlsFiles): string {
  return `${statSync(f.certFile).mtimeMs}/${statSync(f.keyFile).mtimeMs}`;
}

export function readTlsFiles(f: TlsFiles): { cert: Buffer; key: Buffer } {
  return { cert: readFileSync(f.certFile), key: readFileSync(f.keyFile) };
}

export interface CertReloader {
  /** One poll: reloads if the files changed since the last pair applied. True when it reloaded. */
  check(): boolean;
  stop(): void;
}

/**
 * Polls `files` every `intervalMs` and hands a changed pair to `apply` (the HTTPS server's
 * setSecureContext, which throws on a certificate that does not match its key).
 */
export function watchTlsFiles(
  files: TlsFiles,
  apply: (tls: { cert: Buffer; key: Buffer }) => void,
  opts: { intervalMs: number; log: Logger },
): CertReloader {
  let applied = tlsFilesVersion(files);
  const check = (): boolean => {
    try {
      const seen = tlsFilesVersion(files);
      if (seen === applied) return false;
      apply(readTlsFiles(files));
      // Only now: a pair that failed is tried again at the next poll.
      applied = seen;
      opts.log.info({ certFile: files.certFile }, 'reloaded webhook serving certificate');
      return true;
    } catch (err) {
      opts.log.warn(
        { err: errorMessage(err), certFile: files.certFile, keyFile: files.keyFile },
        'could not reload the webhook certificate (a certificate and key written one after the other match again at the next poll)',
      );
      return false;
    }
  };
  const timer = setInterval(check, opts.intervalMs);
  timer.unref();
  return { check, stop: () => clearInterval(timer) };
}
