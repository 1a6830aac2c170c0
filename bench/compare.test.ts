// compare.ts end to end, on a repository of its own: a stand-in bench/resync.ts (prints a table
// and which tree it ran in; no harness) in an earlier commit and in the working tree.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

const fakeResync = (crsPerSecond: number, tree: string) => `
import { appendFileSync } from 'node:fs';
const args = new Map(process.argv.slice(2).map((a) => a.slice(2).split('=')));
const crs = Number(args.get('crs') ?? 400);
appendFileSync(process.env.ORDER_LOG, '${tree} ' + crs + '\\n');
console.log('Resync of ' + crs + ' ImageSetMirrors:');
console.log('');
console.log('| run | mirror sets reconciled | wall s | CRs/s | failed |');
console.log('| --- | --- | --- | --- | --- |');
console.log('| whole resync, 4 at a time | ' + crs + ' | 1 | ${crsPerSecond} | 0 |');
`;

function repo() {
  const dir = mkdtempSync(join(tmpdir(), 'kuik-compare-test-'));
  mkdirSync(join(dir, 'bench'));
  for (const f of ['compare.ts', 'lib.ts']) copyFileSync(join(import.meta.dirname, f), join(dir, 'bench', f));
  const git = (...a: string[]) =>
    execFileSync('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@t', ...a])
      .toString()
      .trim();
  git('init', '-q');
  writeFileSync(join(dir, 'bench/resync.ts'), fakeResync(100, 'before'));
  git('add', '.');
  git('commit', '-qm', 'before');
  const before = git('rev-parse', 'HEAD');
  // The checkout itself, with uncommitted changes: "after" is the working tree.
  writeFileSync(join(dir, 'bench/resync.ts'), fakeResync(150, 'after'));
  return { dir, before };
}

/** Runs `t` on a fresh repository (repo()), removed afterwards whatever `t` did. */
function withRepo(t: (dir: string, before: string) => void) {
  const { dir, before } = repo();
  try {
    t(dir, before);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `bench/compare.ts <args>` in `dir`; the stand-in benchmarks log their runs to `dir`/order.log. */
function compare(dir: string, args: string[]) {
  return spawnSync(process.execPath, [join(dir, 'bench/compare.ts'), ...args], {
    env: { ...process.env, ORDER_LOG: join(dir, 'order.log') },
    encoding: 'utf8',
  });
}

test('compare runs before and after alternately, each in its own tree, and prints their numbers side by side', () => {
  withRepo((dir, before) => {
    const orderLog = join(dir, 'order.log');
    const r = compare(dir, [`--before=${before}`, '--reps=2', 'resync', '--crs=7']);
    assert.equal(r.status, 0, r.stderr);
    // A B A B, the benchmark's argument passed to both.
    assert.equal(readFileSync(orderLog, 'utf8'), 'before 7\nafter 7\nbefore 7\nafter 7\n');
    assert.match(r.stdout, /--before=[0-9a-f]+ --reps=2 resync --crs=7/);
    assert.match(r.stdout, /after: \w+ before \(with uncommitted changes\)/);
    // One line per run with its load average.
    assert.match(
      r.stdout,
      /\| 1 \| before \| \d\d:\d\d:\d\d \| [\d.]+ \| [\d.]+ \| [\d.]+ \| [\d.]+ \| ok \|/,
    );
    assert.match(r.stdout, /\| 4 \| after \|/);
    assert.match(
      r.stdout,
      /\| whole resync, 4 at a time \| CRs\/s \| 100 \/ 100 \| 150 \/ 150 \| 1\.50 \| 0 % \| better \|/,
    );
    assert.match(
      r.stdout,
      /\| whole resync, 4 at a time \| mirror sets reconciled \| 7 \/ 7 \| 7 \/ 7 \| 1\.00 \| 0 % \| same \|/,
    );
    // Each run's output kept beside the comparison.
    const [out] = readdirSync(join(dir, 'bench/out'));
    assert.deepEqual(readdirSync(join(dir, 'bench/out', out!)).sort(), [
      '1-before.md',
      '2-after.md',
      '3-before.md',
      '4-after.md',
      'comparison.md',
    ]);
  });
});

test('a failed run is reported and left out; the other runs are still compared', () => {
  withRepo((dir) => {
    // The third run (the second "before") fails.
    writeFileSync(
      join(dir, 'bench/resync.ts'),
      `if (process.env.ORDER_LOG) { const n = (await import('node:fs')).readFileSync(process.env.ORDER_LOG, 'utf8').split('\\n').length; if (n === 3) { (await import('node:fs')).appendFileSync(process.env.ORDER_LOG, 'failed\\n'); process.exit(3); } }\n${fakeResync(100, 'before')}`,
    );
    execFileSync('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qam', 'flaky']);
    const flaky = execFileSync('git', ['-C', dir, 'rev-parse', 'HEAD']).toString().trim();
    writeFileSync(join(dir, 'bench/resync.ts'), fakeResync(150, 'after'));
    const orderLog = join(dir, 'order.log');
    writeFileSync(orderLog, '');
    const r = compare(dir, [`--before=${flaky}`, '--reps=2', 'resync']);
    assert.equal(readFileSync(orderLog, 'utf8'), 'before 400\nafter 400\nfailed\nafter 400\n');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /1 of 4 runs failed/);
    assert.match(r.stdout, /\| 3 \| before \| .* \| failed \(exited 3\), left out \|/);
    assert.match(
      r.stdout,
      /\| whole resync, 4 at a time \| CRs\/s \| 100 \| 150 \/ 150 \| 1\.50 \| 0 % \| better \|/,
    );
  });
});

test('compare refuses an argument one tree does not read, before running anything', () => {
  withRepo((dir, before) => {
    // The working tree's script reads --seconds; the earlier one does not.
    writeFileSync(
      join(dir, 'bench/resync.ts'),
      `${fakeResync(150, 'after')}\nconsole.log(args.get('seconds'));\n`,
    );
    const r = compare(dir, [`--before=${before}`, 'resync', '--seconds=3']);
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      /--seconds is not an option of the before tree's bench\/resync\.ts \(it reads: --crs\)/,
    );
    assert.throws(() => readFileSync(join(dir, 'order.log')), /ENOENT/);
  });
});
