// The container image, built the way a release is (scripts/build-image.sh: buildah, Containerfile)
// under a tag of this run's own, then taken apart: what it runs, as whom, and what it holds.
// build-image.sh's own smoke test (the image's node answering reconcile's /readyz as UID 65532)
// must pass for the build to succeed.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { harness } from '../harness/env.ts';
import { uniq } from '../harness/fixtures.ts';
import { freePort, run } from '../harness/proc.ts';

const env = { STORAGE_DRIVER: 'vfs', BUILDAH_ISOLATION: 'chroot' };
const image = `localhost/kuik-functions:${uniq('test')}`;
let buildOutput: string;
let ctr: string;
let root: string;

before(async () => {
  buildOutput = await run('bash', [join(harness().repoRoot, 'scripts/build-image.sh'), image], {
    env: { ...env, KUIK_SMOKE_PORT: String(await freePort()) },
  });
  ctr = (await run('buildah', ['from', image], { env })).trim();
  root = (await run('buildah', ['mount', ctr], { env })).trim();
});

after(async () => {
  if (ctr) await run('buildah', ['rm', ctr], { env }).catch(() => '');
  await run('buildah', ['rmi', image], { env }).catch(() => '');
});

test('the build passes its smoke test and reports the size', () => {
  assert.match(buildOutput, /smoke test passed/);
  const size = /, (\d+(?:\.\d+)?) MB$/m.exec(buildOutput);
  assert.ok(size, buildOutput);
  // Node (stripped) is ≈ 108 MB of it; anything far above means something else crept in.
  assert.ok(Number(size[1]) < 140, `image is ${size[1]} MB`);
});

test('it runs node on the bundle as UID 65532 with the compile cache', async () => {
  const config = JSON.parse(await run('buildah', ['inspect', '--type', 'image', image], { env })) as {
    OCIv1: {
      config: { User: string; Entrypoint: string[]; Env: string[]; ExposedPorts: Record<string, unknown> };
    };
  };
  const c = config.OCIv1.config;
  assert.equal(c.User, '65532:65532');
  assert.deepEqual(c.Entrypoint, ['/usr/local/bin/node', '/app/main.mjs']);
  assert.ok(c.Env.includes('NODE_COMPILE_CACHE=/app/.compile-cache'));
  assert.deepEqual(Object.keys(c.ExposedPorts).sort(), ['8080/tcp', '9443/tcp']);
  // Node keeps one cache per UID: it must be the runtime user's.
  const caches = readdirSync(join(root, 'app/.compile-cache'));
  assert.ok(
    caches.some((d) => d.endsWith('-65532')),
    caches.join(', '),
  );
});

test('it holds node, its libraries and the bundle: no shell, no package manager, no node_modules', () => {
  for (const p of ['usr/local/bin/node', 'lib64/ld-linux-x86-64.so.2', 'app/main.mjs', 'app/chunks']) {
    assert.ok(existsSync(join(root, p)), `${p} missing`);
  }
  for (const p of ['bin/sh', 'usr/bin/env', 'app/node_modules', 'src', 'usr/bin/npm']) {
    assert.ok(!existsSync(join(root, p)), `${p} should not be in the image`);
  }
  const top = readdirSync(root).sort();
  assert.deepEqual(top, ['app', 'etc', 'lib', 'lib64', 'usr']);
  assert.ok(statSync(join(root, 'usr/local/bin/node')).size < 120 * 1024 * 1024, 'node is stripped');
});
