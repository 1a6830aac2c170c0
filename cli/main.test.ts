// Every user mistake, through the real CLI process: one line on stderr that says what to do, a
// non-zero exit code (2 for the command line itself), nothing on stdout, never a stack trace.
// None of these needs a cluster: the kubeconfig here points at a port where nothing listens.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'kuik-cli-'));
// A port nothing listens on: taken, then released.
const closedPort = await new Promise<number>((resolve) => {
  const srv = createServer().listen(0, '127.0.0.1', () => {
    const { port } = srv.address() as { port: number };
    srv.close(() => resolve(port));
  });
});
const kubeconfig = join(dir, 'kubeconfig');
writeFileSync(
  kubeconfig,
  `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:${closedPort}"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: dev, context: {cluster: c, user: u}}, {name: staging, context: {cluster: c, user: u}}]
current-context: dev
`,
);
const service = join(dir, 'service.yaml');
writeFileSync(service, 'apiVersion: v1\nkind: Service\nmetadata: {name: web}\n');

function kuik(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [MAIN, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env['PATH'] ?? '', HOME: dir, KUBECONFIG: kubeconfig, ...env },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function mistake(args: string[], code: number, line: RegExp, env: Record<string, string> = {}) {
  const r = kuik(args, env);
  assert.equal(r.code, code, r.stderr);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line expected, got:\n${r.stderr}`);
  assert.match(lines[0] as string, /^kuik: /);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  assert.match(lines[0] as string, line);
}

test('--help prints the usage on stdout and exits 0', () => {
  const r = kuik(['--help']);
  assert.equal(r.code, 0);
  assert.equal(r.stderr, '');
  assert.match(r.stdout, /kubectl kuik explain POD/);
  assert.match(r.stdout, /--kubeconfig FILE/);
});

test('an unknown flag or output format, or a missing command, exits 2 with one line', () => {
  mistake(['explain', 'web', '--colour'], 2, /unknown flag --colour \(see kuik --help\)/);
  mistake(
    ['explain', 'web', '-o', 'table'],
    2,
    /unknown output format "table": use -o json, -o yaml or -o wide/,
  );
  mistake([], 2, /missing command: explain or preview/);
  mistake(['preview', 'deployment/web'], 2, /unknown kind "deployment"/);
});

test('no kubeconfig anywhere: says to pass --kubeconfig or set KUBECONFIG', () => {
  mistake(['explain', 'web'], 1, /no kubeconfig: pass --kubeconfig FILE or set KUBECONFIG/, {
    KUBECONFIG: '',
  });
  mistake(
    ['explain', 'web', '--kubeconfig', join(dir, 'nope')],
    1,
    /kubeconfig .*nope does not exist: check the --kubeconfig path/,
  );
  mistake(['explain', 'web'], 1, /KUBECONFIG names no existing file/, { KUBECONFIG: join(dir, 'nope') });
});

test('a context the kubeconfig lacks: lists the ones it has', () => {
  mistake(
    ['explain', 'web', '--context', 'prod'],
    1,
    /context "prod" is not in the kubeconfig \(it has: dev, staging\): pass one of those to --context/,
  );
});

test('an API server that does not answer: names it and the context', () => {
  mistake(
    ['explain', 'web', '--context', 'staging'],
    1,
    new RegExp(
      `cannot reach the API server https://127\\.0\\.0\\.1:${closedPort} of context "staging" \\(ECONNREFUSED\\)`,
    ),
  );
});

test('a missing -f file, a file without pods, a missing --ca-file or --config: says which', () => {
  mistake(
    ['explain', '-f', join(dir, 'nope.yaml')],
    1,
    /file .*nope\.yaml does not exist: check the -f path/,
  );
  mistake(['explain', '-f', service], 1, /holds no Pod or workload/);
  mistake(
    ['explain', 'web', '--ca-file', join(dir, 'ca.pem')],
    1,
    /cannot read --ca-file .*ca\.pem \(ENOENT\): check the path/,
  );
  mistake(['explain', 'web', '--ca-file', service], 1, /holds no PEM certificate/);
  mistake(['preview', '-f', join(dir, 'cr.yaml')], 1, /file .*cr\.yaml does not exist/);
});
