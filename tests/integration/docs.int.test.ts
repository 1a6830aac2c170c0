// The docs are true: every ```sh block of README.md and docs/*.md runs here, as written, or says
// why it cannot (`<!-- norun: reason -->` on the line before its fence). A block runs with bash
// (-e, pipefail) and must exit 0, in a directory that holds the repository (symlinks) and a
// `pod.yaml`, with PATH giving kubectl, helm, kuik and the project's node.
//
// Where it runs:
// - by default on the shared harness, so it must be safe there: reads, dry runs, objects of its own;
// - `<!-- test-on: private-cluster -->` before the fence: on a control plane of its own (the
//   harness's binaries, kuik's + Knative's + cert-manager's CRDs), for blocks that install
//   cluster-wide objects (the install commands);
// - `<!-- test-on: kuik-v2-crds -->`: the migration step, on a control plane holding the CRDs as
//   kuik v2's chart installed them (the last test of this file).
//
// Placeholders: the upper-case words below, whole words only, are the only substitutions. They
// name objects this file makes: NAMESPACE (or NS) a namespace of its own, POD a pod in it carrying
// the router's annotations, NAME an ImageSetMirror (in NAMESPACE, reconciled once: Ready), a
// ClusterImageSetMirror and a ClusterImageSetAvailability.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse } from 'yaml';
import { parseConfig } from '#shared/config/config.ts';
import { createLogger } from '#shared/log.ts';
import { reconcileDeps } from '../../functions/reconcile/main.ts';
import { reconcileMirrorSet } from '../../functions/reconcile/mirror-set.ts';
import { applyCrds, yamlFiles } from '../harness/controlplane.ts';
import { harness, kubeConfig } from '../harness/env.ts';
import { kubectl, namespace, uniq } from '../harness/fixtures.ts';
import { type PrivateControlPlane, startPrivateControlPlane } from '../harness/private-controlplane.ts';
import { manifestTools, tools } from '../harness/tools.ts';

export interface ShellBlock {
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  code: string;
  norun?: string;
  /** `harness` unless a `<!-- test-on: … -->` line before the fence says otherwise. */
  target: 'harness' | 'private-cluster' | 'kuik-v2-crds';
}

const SHELL_FENCE = /^(\s*)```(sh|bash|shell|zsh)\s*$/;

/** The shell blocks of one Markdown text, with the directive on the line before each. Pure. */
export function shellBlocks(file: string, text: string): ShellBlock[] {
  const lines = text.split('\n');
  const out: ShellBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = SHELL_FENCE.exec(lines[i]!);
    if (!open) continue;
    const indent = open[1]!.length;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !/^\s*```\s*$/.test(lines[j]!); j++) body.push(lines[j]!.slice(indent));
    let k = i - 1;
    while (k >= 0 && lines[k]!.trim() === '') k--;
    const before = k >= 0 ? lines[k]!.trim() : '';
    const norun = /^<!-- norun: (.*\S) -->$/.exec(before)?.[1];
    const on = /^<!-- test-on: (private-cluster|kuik-v2-crds) -->$/.exec(before)?.[1];
    out.push({
      file,
      line: i + 1,
      code: body.join('\n'),
      ...(norun === undefined ? {} : { norun }),
      target: (on as ShellBlock['target'] | undefined) ?? 'harness',
    });
    i = j;
  }
  return out;
}

const repoRoot = () => harness().repoRoot;
function docFiles(): string[] {
  const docs = readdirSync(join(repoRoot(), 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`);
  return ['README.md', ...docs];
}
function allBlocks(): ShellBlock[] {
  return docFiles().flatMap((f) => shellBlocks(f, readFileSync(join(repoRoot(), f), 'utf8')));
}

interface Fixtures {
  ns: string;
  pod: string;
  name: string;
}

export function substitute(code: string, f: Fixtures): string {
  return code
    .replace(/\bNAMESPACE\b/g, f.ns)
    .replace(/\bNS\b/g, f.ns)
    .replace(/\bPOD\b/g, f.pod)
    .replace(/\bNAME\b/g, f.name);
}

let workDir: string;
let binDir: string;

/** Runs a block as a reader would paste it; resolves with its output, rejects naming file:line. */
function runBlock(b: ShellBlock, script: string, kubeconfig: string, cwd = workDir): Promise<string> {
  const node = dirname(process.execPath);
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-e', '-o', 'pipefail', '-c', script], {
      cwd,
      env: {
        PATH: `${binDir}:${node}:/usr/local/bin:/usr/bin:/bin`,
        HOME: join(workDir, '.home'),
        KUBECONFIG: kubeconfig,
        LANG: 'C.UTF-8',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else
        reject(
          new Error(
            `${b.file}:${b.line}: the block exited with ${code ?? signal}:\n${script}\n--- output ---\n${out}\n` +
              'Fix the command, or put `<!-- norun: <reason> -->` on the line before its fence.',
          ),
        );
    });
  });
}

/** A control plane of its own with the CRDs an install needs (kuik's come with it). */
async function privateCluster(prefix: string): Promise<PrivateControlPlane> {
  const cp = await startPrivateControlPlane(prefix);
  const certManager = await yamlFiles(manifestTools().certManagerCrdDir);
  await applyCrds(tools().kubectl, cp.kubeconfig, [
    ...(await yamlFiles(tools().knativeCrdDir)),
    ...certManager,
  ]);
  return cp;
}

let fixtures: Fixtures;
const privates: Promise<PrivateControlPlane>[] = [];
/** Control planes start side by side in before() (each takes a while to take its CRDs). */
const clusters = new Map<string, Promise<PrivateControlPlane>>();
function startCluster(key: string, start: () => Promise<PrivateControlPlane>): void {
  const p = start();
  p.catch(() => {}); // awaited (and reported) by the test that uses it
  clusters.set(key, p);
  privates.push(p);
}
const blockKey = (b: ShellBlock) => `${b.file}:${b.line}`;

before(async () => {
  for (const b of allBlocks()) {
    if (b.target === 'private-cluster' && b.norun === undefined) {
      startCluster(blockKey(b), () => privateCluster('docs-install'));
    }
  }
  startCluster('migration', () => startPrivateControlPlane('docs-migration'));
  const h = harness();
  workDir = join(h.runDir, uniq('docs'));
  binDir = join(workDir, '.bin');
  await mkdir(join(workDir, '.home'), { recursive: true });
  await mkdir(binDir);
  // The repository as the reader's working directory (commands name crds/, manifests/ …).
  for (const entry of readdirSync(h.repoRoot)) {
    if (entry === '.git') continue;
    await symlink(join(h.repoRoot, entry), join(workDir, entry));
  }
  await symlink(h.bins.kubectl, join(binDir, 'kubectl'));
  await symlink(manifestTools().helm, join(binDir, 'helm'));
  await writeFile(
    join(binDir, 'kuik'),
    `#!/bin/sh\nexec node ${JSON.stringify(join(h.repoRoot, 'scripts/kuik.ts'))} "$@"\n`,
    { mode: 0o755 },
  );
  const ns = await namespace('docs');
  const name = uniq('docs');
  const podName = uniq('docs-pod');
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: podName,
      namespace: ns,
      annotations: {
        'kuik.enix.io/original-images': JSON.stringify({ app: 'nginx:1.27' }),
        'kuik.enix.io/reason': 'OriginalAvailable',
      },
    },
    spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] },
  };
  await writeFile(join(workDir, 'pod.yaml'), JSON.stringify({ ...pod, metadata: { name: podName } }));
  await kubectl(['create', '-f', '-'], JSON.stringify(pod));
  const kuik = (kind: string, extra: object) =>
    JSON.stringify({ apiVersion: 'kuik.enix.io/v1alpha1', kind, metadata: { name, ...extra }, spec: {} });
  await kubectl(['create', '-f', '-'], kuik('ImageSetMirror', { namespace: ns }));
  // Its status as reconcile writes it (Ready: it selects nothing), for the `kubectl wait` example.
  const cfg = parseConfig('{}\n');
  assert.ok(cfg.ok);
  const r = await reconcileMirrorSet(
    { kind: 'ImageSetMirror', name, namespace: ns },
    reconcileDeps(cfg.value.config, {}, kubeConfig(), createLogger('docs', 'silent')),
  );
  assert.deepEqual(r.errors, []);
  await kubectl(['create', '-f', '-'], kuik('ClusterImageSetMirror', {}));
  await kubectl(['create', '-f', '-'], kuik('ClusterImageSetAvailability', {}));
  fixtures = { ns, pod: podName, name };
});

after(async () => {
  for (const p of privates) await (await p.catch(() => undefined))?.stop();
  if (fixtures) {
    for (const kind of ['cism', 'cisa']) await kubectl(['delete', kind, fixtures.name]).catch(() => '');
  }
});

test('shell blocks are found with the directive on the line before them, indented or not', () => {
  const md = [
    '# t',
    '```sh',
    'kubectl get ns',
    '```',
    '<!-- norun: needs nodes, the harness has none -->',
    '',
    '```bash',
    'kubectl rollout status deploy/x',
    '```',
    '1. step',
    '   <!-- test-on: private-cluster -->',
    '   ```sh',
    '   kubectl apply -k manifests/',
    '   ```',
    '```yaml',
    'a: 1',
    '```',
  ].join('\n');
  assert.deepEqual(shellBlocks('t.md', md), [
    { file: 't.md', line: 2, code: 'kubectl get ns', target: 'harness' },
    {
      file: 't.md',
      line: 7,
      code: 'kubectl rollout status deploy/x',
      norun: 'needs nodes, the harness has none',
      target: 'harness',
    },
    { file: 't.md', line: 12, code: 'kubectl apply -k manifests/', target: 'private-cluster' },
  ]);
  assert.equal(
    substitute('kubectl get pod POD -n NAMESPACE; kubectl get cism NAME # NAMES stay', {
      ns: 'n1',
      pod: 'p1',
      name: 'c1',
    }),
    'kubectl get pod p1 -n n1; kubectl get cism c1 # NAMES stay',
  );
});

test('every shell block in README.md and docs/ runs here or says why not', () => {
  const blocks = allBlocks();
  assert.ok(blocks.length > 10, `only ${blocks.length} shell blocks found: is the extraction broken?`);
  for (const b of blocks) {
    assert.ok(b.code.trim() !== '', `${b.file}:${b.line}: an empty shell block`);
    if (b.norun !== undefined) {
      assert.ok(
        b.norun.length >= 10,
        `${b.file}:${b.line}: say why the block cannot run, not just "${b.norun}"`,
      );
    }
  }
});

describe('the shell blocks of the docs, run', () => {
  // Per file, in order: a later block may use what an earlier one made.
  for (const b of (() => {
    try {
      return allBlocks();
    } catch {
      return [];
    }
  })()) {
    // kuik-v2-crds: the migration test below runs it.
    if (b.norun !== undefined || b.target === 'kuik-v2-crds') continue;
    test(`${b.file}:${b.line}${b.target === 'private-cluster' ? ' (on a control plane of its own)' : ''}`, async () => {
      if (b.target === 'harness') {
        await runBlock(b, substitute(b.code, fixtures), harness().kubeconfig);
        return;
      }
      const cp = await clusters.get(blockKey(b))!;
      await runBlock(b, substitute(b.code, fixtures), cp.kubeconfig);
      // It did install: the router's webhook is there.
      await cp.kubectl(['get', 'mutatingwebhookconfiguration', 'kuik-router']);
    });
  }
});

test('migrating-from-kuik.md step 2 works on the CRDs as kuik v2 installed them (field manager helm)', async () => {
  const doc = 'docs/migrating-from-kuik.md';
  const step = shellBlocks(doc, readFileSync(join(repoRoot(), doc), 'utf8')).find(
    (b) => b.target === 'kuik-v2-crds',
  );
  assert.ok(step, `${doc}: no shell block marked <!-- test-on: kuik-v2-crds --> (step 2)`);
  const cp = await clusters.get('migration')!;
  // kuik v2's chart installs its CRDs (its crds/ folder) as the field manager `helm`. Stand-in for
  // kuik's files: the project's CRDs are kuik's schema plus additive fields and CEL rules
  // (docs/crds.md), and kuik's text differs from ours (descriptions), so: ours without the CEL
  // rules, every description reworded. Made anew, so that helm is the only manager.
  const crdFiles = (await yamlFiles(join(repoRoot(), 'crds'))).filter((f) =>
    readFileSync(f, 'utf8').includes('kind: CustomResourceDefinition'),
  );
  await cp.kubectl(['delete', '--wait', ...crdFiles.flatMap((f) => ['-f', f])]);
  const kuikV2 = crdFiles.map((f) => asKuikV2(parse(readFileSync(f, 'utf8'))));
  await cp.kubectl(
    ['apply', '--server-side', '--field-manager=helm', '-f', '-'],
    JSON.stringify({ apiVersion: 'v1', kind: 'List', items: kuikV2 }),
  );
  await cp.kubectl([
    'wait',
    '--for=condition=Established',
    '--timeout=60s',
    ...crdFiles.flatMap((f) => ['-f', f]),
  ]);
  const managers = async () =>
    JSON.parse(
      await cp.kubectl(['get', 'crd', 'imagesetmirrors.kuik.enix.io', '-o', 'json', '--show-managed-fields']),
    )
      .metadata.managedFields.filter((m: { subresource?: string }) => m.subresource === undefined)
      .map((m: { manager: string }) => m.manager);
  assert.deepEqual(await managers(), ['helm']);
  // A CR of the old installation, which must survive.
  await cp.kubectl(['apply', '-f', join(repoRoot(), 'crds/samples/clusterimagesetmirror-global.yaml')]);
  // The command the doc used to give fails as reported on kuik's installation: the setup is faithful.
  const old = await cp.kubectl(['apply', '--server-side', '-f', join(repoRoot(), 'crds')]).then(
    () => assert.fail('the old step 2 succeeded'),
    (e: Error) => e.message,
  );
  assert.match(old, /no matches for kind "Kustomization"/);
  assert.match(old, /conflicts? with "helm"/);
  await runBlock(step, step.code, cp.kubeconfig);
  assert.ok((await managers()).includes('kubectl'), 'kubectl now owns the CRDs');
  const names = await cp.kubectl(['get', 'cism', '-o', 'name']);
  assert.match(names, /clusterimagesetmirror/);
  // The project's schema is in place: its CEL rules are back.
  assert.match(
    await cp.kubectl(['get', 'crd', 'imagesetmirrors.kuik.enix.io', '-o', 'yaml']),
    /x-kubernetes-validations/,
  );
});

/** A CRD as kuik v2 shipped it, near enough for field ownership: no CEL rules, its own wording. */
function asKuikV2(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(asKuikV2);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === 'x-kubernetes-validations') continue;
    out[k] = k === 'description' && typeof v === 'string' ? `kuik v2: ${v}` : asKuikV2(v);
  }
  return out;
}
