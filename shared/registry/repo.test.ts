import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { heldBytes } from './repo.ts';

describe('heldBytes', () => {
  it('reads the Range header of an upload session', () => {
    assert.equal(heldBytes('0-1023'), 1024);
    assert.equal(heldBytes('bytes=0-9'), 10);
    assert.equal(heldBytes(undefined, 7), 7);
    assert.equal(heldBytes('garbage', 3), 3);
  });

  it('reads distribution’s ambiguous 0-0 by what the caller expects', () => {
    assert.equal(heldBytes('0-0'), 0);
    assert.equal(heldBytes('0-0', 1), 1);
    assert.equal(heldBytes('0-0', 500), 0);
  });
});
