import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from './log.ts';

test('the logger redacts credentials wherever they are nested', () => {
  const lines: string[] = [];
  const log = createLogger('t', 'info', { write: (s: string) => void lines.push(s) });
  log.info(
    {
      password: 'hunter2',
      cred: { password: 'pw-two' },
      headers: { authorization: 'Bearer abc' },
      secret: { data: { x: 'c2VjcmV0' } },
    },
    'decision',
  );
  assert.equal(lines.length, 1);
  const line = JSON.parse(lines[0]!);
  assert.equal(line.msg, 'decision');
  assert.equal(line.function, 't');
  assert.doesNotMatch(lines[0]!, /hunter2|pw-two|Bearer abc|c2VjcmV0/);
  assert.equal(line.password, '[redacted]');
});

test('untrusted(): short values as they are; long ones as head, length and sha256', async () => {
  const { untrusted, UNTRUSTED_MAX } = await import('./log.ts');
  const { createHash } = await import('node:crypto');
  assert.equal(untrusted('docker.io/library/nginx:1.27'), 'docker.io/library/nginx:1.27');
  for (const v of [undefined, null, 3, true]) assert.equal(untrusted(v), v);
  const long = `x${'A'.repeat(2 * 1024 * 1024)}`;
  const t = untrusted(long) as { head: string; length: number; sha256: string };
  assert.equal(t.length, long.length);
  assert.ok(t.head.length < UNTRUSTED_MAX && long.startsWith(t.head));
  assert.equal(t.sha256, createHash('sha256').update(long).digest('hex'));
  assert.deepEqual(untrusted({ a: 1 }), { a: 1 });
  assert.equal((untrusted({ big: long }) as { length: number }).length, JSON.stringify({ big: long }).length);
});

test('a 2 MiB string or a huge list logged anywhere, even unwrapped, makes a short line; redaction still applies', () => {
  const lines: string[] = [];
  const log = createLogger('t', 'info', { write: (s: string) => void lines.push(s) });
  const image = `registry.example.com/${'a'.repeat(2 * 1024 * 1024)}:1`;
  log.warn(
    {
      error: `invalid image ${image}`,
      nested: { deep: [{ image }] },
      many: Array(10_000).fill('x'),
      password: 'pw',
    },
    'refused',
  );
  assert.equal(lines.length, 1);
  assert.ok(lines[0]!.length < 8 * 1024, `line is ${lines[0]!.length} bytes`);
  const line = JSON.parse(lines[0]!);
  assert.equal(line.error.length, `invalid image ${image}`.length);
  assert.match(line.error.sha256, /^[0-9a-f]{64}$/);
  assert.equal(line.nested.deep[0].image.length, image.length);
  assert.equal(line.many.length, 65);
  assert.deepEqual(line.many.at(-1), { omitted: 10_000 - 64 });
  assert.equal(line.password, '[redacted]');
});
