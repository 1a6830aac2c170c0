// §5.7 on a real registry: two clusters share one mirror. Each claims the mirrored image it uses;
// the first to let go only withdraws its claim, the last one deletes the image.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { isClaimTag } from '#shared/claims.ts';
import { RegistryClient } from '#shared/registry/client.ts';
import { deleteMirroredImage, ensureClaim } from '../../functions/reconcile/delete-image.ts';
import { harness } from '../harness/env.ts';
import { seed, uniq } from '../harness/fixtures.ts';
import { inspectRaw } from '../harness/registry.ts';

test('two clusters sharing a mirror: neither deletes an image the other still uses', async () => {
  const reg = harness().registries.token;
  const client = new RegistryClient({ defaultHost: { ca: readFileSync(reg.caFile) } });
  const creds = [{ username: reg.username, password: reg.password }];
  const repo = uniq('shared/app');
  const { ref, digest } = await seed(reg, repo, '1.27');
  const tags = async () => {
    const res = await client.transport.request(reg.host, {
      method: 'GET',
      path: `/v2/${repo}/tags/list`,
      scopes: [{ repository: repo, actions: ['pull'] }],
      credential: creds[0],
    });
    return ((await res.body.json()) as { tags: string[] | null }).tags ?? [];
  };
  try {
    await ensureClaim(client, ref, creds, 'cluster-a');
    await ensureClaim(client, ref, creds, 'cluster-b');
    await ensureClaim(client, ref, creds, 'cluster-a'); // idempotent
    assert.equal((await tags()).filter(isClaimTag).length, 2);
    // The claims name the very same manifest: a delete by digest would take them too.
    assert.equal((await inspectRaw(reg, ref)).digest, digest);

    // Cluster A's retention expires: it withdraws its claim, the image stays for B.
    assert.equal(await deleteMirroredImage(client, ref, creds, 'cluster-a'), 'kept-shared');
    assert.equal((await inspectRaw(reg, ref)).digest, digest);
    assert.equal((await tags()).filter(isClaimTag).length, 1);

    // Cluster B lets go too: now it is deleted, claim included.
    assert.equal(await deleteMirroredImage(client, ref, creds, 'cluster-b'), 'deleted');
    await assert.rejects(inspectRaw(reg, ref), /manifest unknown|not found|404/i);
    assert.deepEqual((await tags()).filter(isClaimTag), []);
  } finally {
    await client.close();
  }
});
