// `kuik explain` against the real cluster and registries: the router's decision, as a dry run.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { harness } from '../harness/env.ts';
import { apply, imageSetMirror, kubectl, namespace, seed, uniq } from '../harness/fixtures.ts';
import { run } from '../harness/proc.ts';

test('kuik explain shows each container’s alternatives, verdicts and the winner, and writes nothing', async () => {
  const h = harness();
  const reg = h.registries.tls;
  const repo = uniq('explain/app');
  await seed(reg, `mirror/${repo}`, '1'); // only the mirror has it: the original is NotFound
  const ns = await namespace('explain');
  const auth = Buffer.from(
    JSON.stringify({
      auths: { [reg.host]: { auth: Buffer.from(`${reg.username}:${reg.password}`).toString('base64') } },
    }),
  ).toString('base64');
  await apply({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'reg', namespace: ns },
    type: 'kubernetes.io/dockerconfigjson',
    data: { '.dockerconfigjson': auth },
  });
  const cr = uniq('explain');
  await imageSetMirror(ns, cr, {
    filter: { include: [{ image: `.*/${repo.replace('/', '\\/')}:.*` }] },
    mirrors: [{ registry: reg.host, path: 'mirror', credentialSecret: { name: 'reg' } }],
  });
  const file = join(h.runDir, `${cr}.yaml`);
  await writeFile(
    file,
    `apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: ${ns}}\nspec:\n  imagePullSecrets: [{name: reg}]\n  containers: [{name: app, image: ${reg.host}/${repo}:1}]\n`,
  );
  const env = { KUBECONFIG: h.kubeconfig, NODE_EXTRA_CA_CERTS: h.pki.caCert };
  // A probe timeout for a loaded test machine (kuik's default 1 s is for a router near its registries).
  const config = join(h.runDir, `${cr}-config.yaml`);
  await writeFile(config, 'routing: {activeCheck: {timeout: 20s}}\n');
  const out = await run(
    process.execPath,
    [join(h.repoRoot, 'scripts/kuik.ts'), 'explain', '-f', file, '--config', config],
    { env },
  );
  assert.match(out, new RegExp(`container app: ${reg.host}/${repo}:1`));
  assert.ok(out.includes(`→ ${reg.host}/mirror/${repo}:1   (OnFailure, from ImageSetMirror/${cr})`), out);
  assert.ok(out.includes(`1. ${reg.host}/${repo}:1  [original]  NotFound: image not found`), out);
  assert.ok(out.includes(`2. ${reg.host}/mirror/${repo}:1  [ImageSetMirror/${cr}]  chosen`), out);
  const json = JSON.parse(
    await run(
      process.execPath,
      [join(h.repoRoot, 'scripts/kuik.ts'), 'explain', '-f', file, '-o', 'json', '--config', config],
      { env },
    ),
  ) as { decisions: { chosen: string }[] };
  assert.equal(json.decisions[0]?.chosen, `${reg.host}/mirror/${repo}:1`);
  // A dry run: the ISM's credential is in the pod's namespace, and nothing was created anywhere.
  assert.equal((await kubectl(['get', 'pods', '-n', ns, '-o', 'name'])).trim(), '');
});

test('kuik explain on a missing pod says so and fails', async () => {
  const h = harness();
  await assert.rejects(
    run(process.execPath, [join(h.repoRoot, 'scripts/kuik.ts'), 'explain', '-n', 'default', 'nope'], {
      env: { KUBECONFIG: h.kubeconfig },
    }),
    /pod default\/nope not found/,
  );
});
