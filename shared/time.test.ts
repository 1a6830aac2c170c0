import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rfc3339 } from './time.ts';

test('RFC 3339 timestamps with second precision, milliseconds dropped', () => {
  assert.equal(rfc3339(Date.UTC(2026, 3, 21, 10, 0, 0, 999)), '2026-04-21T10:00:00Z');
  assert.equal(rfc3339(Date.parse('2026-11-25T10:00:00.123Z')), '2026-11-25T10:00:00Z');
});
