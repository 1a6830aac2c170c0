import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_SETTINGS } from './handle.ts';
import { copySettings } from './main.ts';

test('KUIK_COPY_PROGRESS_SECONDS sets the progress report period (decimals allowed), 10 s by default', () => {
  assert.equal(copySettings({}).progressEveryMs, 10_000);
  assert.equal(DEFAULT_SETTINGS.progressEveryMs, 10_000);
  assert.equal(copySettings({ KUIK_COPY_PROGRESS_SECONDS: '2.5' }).progressEveryMs, 2_500);
  assert.throws(
    () => copySettings({ KUIK_COPY_PROGRESS_SECONDS: '0' }),
    /KUIK_COPY_PROGRESS_SECONDS must be a positive number, got "0"/,
  );
});
