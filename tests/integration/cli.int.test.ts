// The kuik CLI against the real cluster and registries, the way an operator runs it:
// `kubectl kuik …` through the plugin installed by `npm run kuik:install`, on the project's Node
// even when another `node` comes first on PATH; the router's configuration and CA read from the
// cluster; -o json|yaml|wide; -f with workloads; preview of a CR.
// Every run names its configuration (--config-from in the test's own namespace): kuik-system is
// shared with other test files.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import YAML from 'yaml';
import { harness } from '../harness/env.ts';
import {
  apply,
  imageSetMirror,
  kubectl,
  namespace,
  pod,
  registrySecret,
  seed,
  uniq,
} from '../harness/fixtures.ts';
import { run } from '../harness/proc.ts';

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function exec(cmd: string, args: string[], env: Record<string, string>, input?: string): Promise<Result> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => {
      stdout += d;
    });
    p.stderr.on('data', (d) => {
      stderr += d;
    });
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout, stderr }));
    p.stdin.end(input ?? '');
  });
}

/** A PATH with the installed plugin and a `node` that is not the project's (it exits 99). */
let pluginPath: Promise<string> | undefined;
function pluginBin(): Promise<string> {
  pluginPath ??= (async () => {
    const h = harness();
    const bin = join(h.runDir, uniq('plugin-bin'));
    await mkdir(bin, { recursive: true });
    // The documented install command, into a directory of our own.
    await run('npm', ['run', '--silent', 'kuik:install'], { cwd: h.repoRoot, env: { KUIK_BIN_DIR: bin } });
    await writeFile(join(bin, 'node'), '#!/bin/sh\necho "not the project node" >&2\nexit 99\n');
    await chmod(join(bin, 'node'), 0o755);
    return bin;
  })();
  return pluginPath;
}

/** `kubectl kuik ARGS` with the harness's kubectl, the plugin on PATH, no CA in the environment. */
async function kubectlKuik(args: string[], input?: string): Promise<Result> {
  const h = harness();
  const bin = await pluginBin();
  return await exec(
    h.bins.kubectl,
    ['kuik', ...args],
    { PATH: `${bin}:${dirname(h.bins.kubectl)}:/usr/bin:/bin`, HOME: h.runDir, KUBECONFIG: h.kubeconfig },
    input,
  );
}

function ok(r: Result): Result {
  assert.equal(r.code, 0, `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  return r;
}

/**
 * A namespace with an upstream image only in its mirror (the original answers NotFound), a pull
 * secret, an ImageSetMirror for it, a running pod, and the router's configuration: a kuik-config
 * ConfigMap with a 20 s probe timeout (not kuik's 1 s: a loaded test machine) and a kuik-router Deployment whose NODE_EXTRA_CA_CERTS comes
 * from a ConfigMap holding the registries' CA (how an operator gives the router a private CA).
 */
async function scene(opts: { routerCa: boolean }) {
  const h = harness();
  const reg = h.registries.tls;
  const repo = uniq('cli/app');
  await seed(reg, `mirror/${repo}`, '1');
  const ns = await namespace('cli');
  await registrySecret(ns, 'reg', reg);
  const ism = uniq('ism');
  await imageSetMirror(ns, ism, {
    filter: { include: [{ image: `.*/${repo.replace('/', '\\/')}:.*` }] },
    mirrors: [{ registry: reg.host, path: 'mirror', credentialSecret: { name: 'reg' } }],
  });
  const image = `${reg.host}/${repo}:1`;
  const web = await pod(ns, [image], ['reg']);
  const other = await pod(ns, [`${reg.host}/unrelated/app:1`], ['reg']);
  await apply({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'kuik-config', namespace: ns },
    data: { 'config.yaml': 'routing:\n  activeCheck:\n    timeout: 20s\n' },
  });
  if (opts.routerCa) {
    await apply(
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'registry-ca', namespace: ns },
        data: { 'ca.crt': await readFile(h.pki.caCert, 'utf8') },
      },
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'kuik-router', namespace: ns },
        spec: {
          selector: { matchLabels: { app: 'kuik-router' } },
          template: {
            metadata: { labels: { app: 'kuik-router' } },
            spec: {
              containers: [
                {
                  name: 'router',
                  image: 'localhost/kuik-functions:test',
                  env: [{ name: 'NODE_EXTRA_CA_CERTS', value: '/etc/kuik-ca/ca.crt' }],
                  volumeMounts: [
                    { name: 'config', mountPath: '/etc/kube-image-keeper' },
                    { name: 'ca', mountPath: '/etc/kuik-ca' },
                  ],
                },
              ],
              volumes: [
                { name: 'config', configMap: { name: 'kuik-config' } },
                { name: 'ca', configMap: { name: 'registry-ca' } },
              ],
            },
          },
        },
      },
    );
  }
  return { h, reg, ns, ism, image, mirror: `${reg.host}/mirror/${repo}:1`, web, other };
}

test('kubectl kuik explain runs as a plugin on the project’s Node, with the router’s configuration and CA from the cluster', async () => {
  const s = await scene({ routerCa: true });
  const r = ok(await kubectlKuik(['explain', '-n', s.ns, s.web, '--config-from', `${s.ns}/kuik-config`]));
  assert.match(r.stdout, new RegExp(`container c0: ${s.image.replace(/[.]/g, '\\.')}`));
  assert.ok(r.stdout.includes(`→ ${s.mirror}   (OnFailure, from ImageSetMirror/${s.ism})`), r.stdout);
  // The original was reached and answered (NotFound): the registry CA came from the router's own.
  assert.ok(r.stdout.includes(`1. ${s.image}  [original]  NotFound`), r.stdout);
  assert.ok(
    r.stderr.includes(
      `configuration: ConfigMap ${s.ns}/kuik-config key config.yaml (probe timeout 20000 ms); CAs: system + ConfigMap ${s.ns}/registry-ca key ca.crt`,
    ),
    r.stderr,
  );
});

test('a registry CA nobody gave: the answer says so and how to fix it; --ca-file fixes it', async () => {
  const s = await scene({ routerCa: false });
  const base = ['explain', '-n', s.ns, s.web, '--config-from', `${s.ns}/kuik-config`];
  const untrusted = ok(await kubectlKuik(base));
  assert.ok(untrusted.stdout.includes('(AllUnavailable)'), untrusted.stdout);
  assert.match(
    untrusted.stderr,
    /hint: .*the registry's TLS certificate is not trusted here .*--ca-file FILE/,
  );
  const trusted = ok(await kubectlKuik([...base, '--ca-file', s.h.pki.caCert]));
  assert.ok(
    trusted.stdout.includes(`→ ${s.mirror}   (OnFailure, from ImageSetMirror/${s.ism})`),
    trusted.stdout,
  );
  assert.ok(trusted.stderr.includes(`CAs: system + --ca-file ${s.h.pki.caCert}`), trusted.stderr);
});

test('-o json, -o yaml and -o wide; explain of a whole namespace', async () => {
  const s = await scene({ routerCa: true });
  const base = ['explain', '-n', s.ns, '--config-from', `${s.ns}/kuik-config`];
  const json = JSON.parse(ok(await kubectlKuik([...base, s.web, '-o', 'json'])).stdout);
  assert.equal(json.pod, `${s.ns}/${s.web}`);
  assert.equal(json.decisions[0].chosen, s.mirror);
  assert.match(json.configuration, /probe timeout 20000 ms/);
  const yaml = YAML.parse(ok(await kubectlKuik([...base, '-o', 'yaml'])).stdout);
  assert.equal(yaml.kind, 'List');
  assert.deepEqual(
    yaml.items.map((i: { pod: string }) => i.pod).sort(),
    [`${s.ns}/${s.other}`, `${s.ns}/${s.web}`].sort(),
  );
  const wide = ok(await kubectlKuik([...base, s.web, '-o', 'wide'])).stdout.split('\n');
  assert.match(wide[0] as string, /^POD +CONTAINER +IMAGE +ROUTED TO +ALTERNATIVES$/);
  assert.ok(wide[1]?.includes(`${s.mirror} (OnFailure, from ImageSetMirror/${s.ism})`), wide[1]);
  assert.ok(wide[1]?.includes(`${s.image}=NotFound,${s.mirror}=chosen`), wide[1]);
});

test('-f takes workloads (their pod template), several documents, and stdin', async () => {
  const s = await scene({ routerCa: true });
  const template = `    metadata: {labels: {app: web}}\n    spec:\n      imagePullSecrets: [{name: reg}]\n      containers: [{name: app, image: ${s.image}}]\n`;
  const manifest = `apiVersion: v1
kind: Service
metadata: {name: web, namespace: ${s.ns}}
spec: {ports: [{port: 80}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ${s.ns}}
spec:
  selector: {matchLabels: {app: web}}
  template:
${template}---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly, namespace: ${s.ns}}
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
${template.replace(/^/gm, '    ')}`;
  const file = join(s.h.runDir, `${uniq('workloads')}.yaml`);
  await writeFile(file, manifest);
  const args = ['explain', '--config-from', `${s.ns}/kuik-config`, '-o', 'json'];
  const fromFile = ok(await kubectlKuik([...args, '-f', file]));
  const list = JSON.parse(fromFile.stdout) as { items: { pod: string; decisions: { chosen: string }[] }[] };
  assert.deepEqual(
    list.items.map((i) => [i.pod, i.decisions[0]?.chosen]),
    [
      [`${s.ns}/Deployment/web`, s.mirror],
      [`${s.ns}/CronJob/nightly`, s.mirror],
    ],
  );
  assert.match(fromFile.stderr, /skipped \(no pod template\): Service\/web/);
  const fromStdin = JSON.parse(ok(await kubectlKuik([...args, '-f', '-'], manifest)).stdout);
  assert.equal(fromStdin.items.length, 2);
  // A dry run: nothing was created from the file.
  const created = await kubectl(['get', 'deploy,cronjob', '-n', s.ns, '-o', 'name']);
  assert.deepEqual(created.trim().split('\n'), ['deployment.apps/kuik-router'], created);
});

test('mistakes against the cluster: one line that says what to do, exit 1', async () => {
  const s = await scene({ routerCa: false });
  for (const [args, line] of [
    [
      ['explain', 'web', '--context', 'nope'],
      /^kuik: context "nope" is not in the kubeconfig \(it has: .+\): pass one of those to --context$/,
    ],
    [
      ['explain', '-n', s.ns, 'missing', '--config-from', `${s.ns}/kuik-config`],
      /^kuik: pod .+\/missing not found: check the name and -n/,
    ],
    [
      ['explain', '-n', s.ns, s.web, '--config-from', `${s.ns}/absent`],
      /^kuik: ConfigMap .+\/absent key config\.yaml does not exist: check --config-from/,
    ],
    [
      ['preview', `ism/absent`, '-n', s.ns],
      /^kuik: ImageSetMirror .+\/absent not found: check the name and -n \(kubectl get ism -n /,
    ],
  ] as const) {
    const r = await kubectlKuik([...args]);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
    assert.match(r.stderr.trimEnd(), line);
  }
});

test('kubectl kuik preview ism/NAME lists the pods and images it matches and what the router would do', async () => {
  const s = await scene({ routerCa: true });
  const r = ok(
    await kubectlKuik(['preview', `ism/${s.ism}`, '-n', s.ns, '--config-from', `${s.ns}/kuik-config`]),
  );
  const lines = r.stdout.trimEnd().split('\n');
  assert.equal(
    lines[0],
    `ImageSetMirror ${s.ns}/${s.ism} matches 1 container image(s) in 1 pod(s) (namespace ${s.ns}, 2 pod(s) looked at)`,
  );
  assert.match(lines[1] as string, /^POD +CONTAINER +IMAGE +ROUTER WOULD USE$/);
  assert.ok(lines[2]?.startsWith(`${s.ns}/${s.web}`), lines[2]);
  assert.ok(
    lines[2]?.includes(`${s.image}  ${s.mirror} (OnFailure, from ImageSetMirror/${s.ism})`),
    lines[2],
  );
  assert.ok(!r.stdout.includes(s.other), r.stdout);
  // A CR not applied yet, from a file: a second mirror path that does not hold the image.
  const draft = join(s.h.runDir, `${uniq('draft')}.yaml`);
  await writeFile(
    draft,
    YAML.stringify({
      apiVersion: 'kuik.enix.io/v1alpha1',
      kind: 'ImageSetMirror',
      metadata: { name: 'draft' },
      spec: {
        filter: { include: [{ image: '.*/unrelated/.*' }] },
        mirrors: [{ registry: s.reg.host, path: 'elsewhere', credentialSecret: { name: 'reg' } }],
      },
    }),
  );
  const p = JSON.parse(
    ok(
      await kubectlKuik([
        'preview',
        '-f',
        draft,
        '-n',
        s.ns,
        '-o',
        'json',
        '--config-from',
        `${s.ns}/kuik-config`,
      ]),
    ).stdout,
  );
  assert.deepEqual(
    p.matches.map((m: { pod: string; image: string }) => [m.pod, m.image]),
    [[`${s.ns}/${s.other}`, `${s.reg.host}/unrelated/app:1`]],
  );
  assert.equal(p.matches[0].decision.reason, 'AllUnavailable');
  assert.ok(
    p.matches[0].decision.alternatives.some((a: { by: string }) => a.by === 'ImageSetMirror/draft'),
    JSON.stringify(p.matches[0].decision),
  );
});
