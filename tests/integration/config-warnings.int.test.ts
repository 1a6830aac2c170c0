// A typo in the configuration must not be silent: the key is ignored (its default applies, the
// function starts) and the log says so, one line per unknown key, as docs/configuration.md promises.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { startFunction } from '../harness/functions.ts';

test('a function logs one "config warning" line per unknown key and still starts', async () => {
  const f = await startFunction('copy', {
    config: 'routing:\n  activeChek:\n    timeout: 3s\nmonitoring:\n  registrie: {}\n',
  });
  try {
    const lines = (await readFile(f.proc.logFile, 'utf8'))
      .split('\n')
      .filter((l) => l.includes('config warning'))
      .map((l) => JSON.parse(l) as { level: string; msg: string });
    assert.deepEqual(
      lines.map((l) => [l.level, l.msg]),
      [
        ['warn', 'config warning: routing.activeChek: unknown key, ignored'],
        ['warn', 'config warning: monitoring.registrie: unknown key, ignored'],
      ],
    );
  } finally {
    await f.stop();
  }
});
