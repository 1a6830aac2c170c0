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
