// Byte sizes as an operator writes them in the configuration: a whole number of bytes, or a
// Kubernetes-style quantity with a binary suffix (`64Ki`, `7Mi`, `1Gi`), the form resource limits
// use in the same manifests.

import type { Result } from './result.ts';

/** A size in bytes, or why the value is not one. */
export type SizeResult = Result<number>;

const UNITS: Readonly<Record<string, number>> = { '': 1, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 };

export function parseSize(value: unknown): SizeResult {
  if (typeof value === 'number') {
    return Number.isSafeInteger(value) && value >= 0
      ? { ok: true, value }
      : { ok: false, error: `must be a whole number of bytes, got ${value}` };
  }
  if (typeof value !== 'string') return { ok: false, error: 'must be a size such as 65536, "64Ki" or "7Mi"' };
  const m = /^(\d+)(Ki|Mi|Gi)?$/.exec(value.trim());
  if (!m)
    return {
      ok: false,
      error: `must be a size such as 65536, "64Ki" or "7Mi", got ${JSON.stringify(value)}`,
    };
  const bytes = Number(m[1]) * (UNITS[m[2] ?? ''] as number);
  return Number.isSafeInteger(bytes)
    ? { ok: true, value: bytes }
    : { ok: false, error: `${value} is too large` };
}

/** 7340032 → "7 MiB", 65536 → "64 KiB", 1000 → "1000 bytes": for error messages and logs. */
export function formatSize(bytes: number): string {
  for (const [unit, n] of [
    ['GiB', 1024 ** 3],
    ['MiB', 1024 ** 2],
    ['KiB', 1024],
  ] as const) {
    if (bytes >= n && bytes % n === 0) return `${bytes / n} ${unit}`;
  }
  return `${bytes} bytes`;
}
