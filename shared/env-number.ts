// A number from a function's environment (the manifests' tuning variables): unset or empty is the
// default; anything else must be a finite number at or above `min`, or the function stops at
// start with a message naming the variable.

export function envNumber(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  o: { min: 'positive' | 'zero'; unit?: number },
): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || (o.min === 'positive' ? n <= 0 : n < 0)) {
    const want = o.min === 'positive' ? 'a positive number' : 'a number ≥ 0';
    throw new Error(`${name} must be ${want}, got ${JSON.stringify(raw)}`);
  }
  return Math.round(n * (o.unit ?? 1));
}
