import assert from 'node:assert/strict';
import { describe, it, test } from 'node:test';
import {
  matchPlatforms,
  noPlatformMessage,
  platformsChanged,
  renderPlatform,
  satisfies,
} from './platform.ts';

const amd64 = { architecture: 'amd64' };
const arm64 = { architecture: 'arm64' };

describe('platforms (§10.6)', () => {
  it('renders os/arch[/variant] and omits an empty os (#69)', () => {
    assert.equal(renderPlatform({ architecture: 'amd64' }), 'amd64');
    assert.equal(renderPlatform({ os: 'linux', architecture: 'amd64' }), 'linux/amd64');
    assert.equal(renderPlatform({ os: 'linux', architecture: 'arm64', variant: 'v8' }), 'linux/arm64/v8');
    assert.equal(renderPlatform({ os: '', architecture: 'arm', variant: 'v7' }), 'arm/v7');
  });

  it('matches configured platforms against available ones (#70)', () => {
    assert.deepEqual(matchPlatforms([amd64, arm64], [amd64, arm64]), {
      matched: [amd64, arm64],
      missing: [],
    });
    assert.deepEqual(matchPlatforms([amd64, arm64], [arm64]), { matched: [arm64], missing: [amd64] });
    assert.deepEqual(matchPlatforms([amd64], [arm64]), { matched: [], missing: [amd64] });
  });

  it('words the no-match error exactly as kuik (#71)', () => {
    assert.equal(
      noPlatformMessage([
        { os: 'linux', architecture: 'amd64' },
        { os: 'linux', architecture: 'arm64' },
      ]),
      'none of the configured platforms are available in the source image: linux/amd64, linux/arm64',
    );
  });

  it('compares only the non-empty fields of the configured platform', () => {
    assert.ok(satisfies({ architecture: 'amd64' }, { os: 'windows', architecture: 'amd64' }));
    assert.ok(
      satisfies(
        { os: '', architecture: 'arm', variant: '' },
        { os: 'linux', architecture: 'arm', variant: 'v7' },
      ),
    );
    assert.ok(
      !satisfies({ architecture: 'arm', variant: 'v7' }, { os: 'linux', architecture: 'arm', variant: 'v6' }),
    );
    assert.ok(!satisfies({ os: 'linux', architecture: 'amd64' }, { os: 'windows', architecture: 'amd64' }));
  });
});

test('platformsChanged: a platform added or removed since the copy, not a missing one or an old status', () => {
  const amd = { architecture: 'amd64' };
  const arm = { architecture: 'arm64' };
  const both = { mirrored: ['linux/amd64', 'linux/arm64'], missing: [] };
  assert.equal(platformsChanged(both, [amd, arm]), false);
  assert.equal(platformsChanged({ mirrored: ['linux/amd64'], missing: ['arm64'] }, [amd, arm]), false);
  assert.equal(platformsChanged({ mirrored: ['linux/amd64'], missing: [] }, [amd, arm]), true, 'arm64 added');
  assert.equal(platformsChanged(both, [amd]), true, 'arm64 removed');
  assert.equal(platformsChanged(undefined, [amd, arm]), false, 'no platforms recorded');
  assert.equal(
    platformsChanged({ mirrored: ['linux/arm/v7'], missing: [] }, [{ architecture: 'arm', variant: 'v7' }]),
    false,
  );
  assert.equal(
    platformsChanged({ mirrored: ['linux/amd64', 'windows/amd64'], missing: [] }, [amd]),
    false,
    '{amd64} keeps windows/amd64 too',
  );
});
