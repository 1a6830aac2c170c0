// The repository stands alone: a clone with nothing beside it builds, tests and runs. No tracked
// file may reach outside the repository (a relative path climbing out of it, the documents folder
// that once sat beside it, an absolute path of some machine), and every `§N` a file cites is a
// section of the project's own docs/behaviour.md.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from './harness/tools.ts';

const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: repoRoot, encoding: 'utf8' })
  .split('\0')
  .filter((f) => f !== '' && existsSync(join(repoRoot, f)));

/** Tracked text files and their content (binary files have a NUL byte early on). */
const texts = tracked.flatMap((f) => {
  const buf = readFileSync(join(repoRoot, f));
  return buf.subarray(0, 8000).includes(0) ? [] : [{ file: f, text: buf.toString('utf8') }];
});

/**
 * Files whose `../x` are data, not references: cases of a path-cleaning function, and the made-up
 * imports the rooms test checks its rule on.
 */
const NOT_PATHS = new Set(['shared/image/path.test.ts', 'tests/rooms.test.ts']);

// Spelt at run time, as the other names this file looks for, so that it holds none itself.
const OLD_OVERRIDE = ['KUIK', 'SHARED', 'DIR'].join('_');
const BESIDE = ['..', 'shared'].join('/');

const lineOf = (text: string, index: number) => text.slice(0, index).split('\n').length;

/** What `file` says that needs something outside the repository, as `file:line: why`. */
export function outsideReferences(file: string, text: string, root: string): string[] {
  const out: string[] = [];
  const forbidden: [RegExp, string][] = [
    [new RegExp(OLD_OVERRIDE, 'g'), 'the old override for the folder beside the repository'],
    [/(?<![\w.~-])\/(?:work|root|home\/[\w.-]+)\//g, 'an absolute path of a machine'],
  ];
  for (const [re, why] of forbidden) {
    for (const m of text.matchAll(re)) out.push(`${file}:${lineOf(text, m.index)}: ${m[0]} (${why})`);
  }
  // Relative paths: each must land on something the repository holds. (Path-cleaning test cases
  // are strings, not paths.)
  if (NOT_PATHS.has(file)) return out;
  for (const m of text.matchAll(/(?<![\w.~/-])((?:\.\.\/)+)([\w@-][\w.@-]*(?:\/[\w.@-]+)*)/g)) {
    const target = resolve(dirname(join(root, file)), m[1]! + m[2]!);
    const rel = relative(root, target);
    if (rel.startsWith(`..${sep}`) || rel === '..') {
      out.push(`${file}:${lineOf(text, m.index)}: ${m[0]} (outside the repository)`);
    } else if (!existsSync(target) && !existsSync(`${target}.ts`)) {
      out.push(`${file}:${lineOf(text, m.index)}: ${m[0]} (${rel} is not in the repository)`);
    }
  }
  return out;
}

test('no tracked file reads, runs or links to anything outside the repository', () => {
  assert.ok(tracked.length > 100, `git ls-files found ${tracked.length} files`);
  // This file spells out what it looks for; it is the one file allowed to.
  const self = 'tests/standalone.test.ts';
  const found = texts
    .filter((t) => t.file !== self)
    .flatMap(({ file, text }) => outsideReferences(file, text, repoRoot));
  assert.deepEqual(found, []);
});

test('the check itself: what it flags and what it lets through', () => {
  const flag = (file: string, text: string) => outsideReferences(file, text, repoRoot).length;
  assert.equal(flag('tests/harness/tools.ts', `resolve(repoRoot, '${BESIDE}')`), 1, 'the folder beside');
  assert.equal(flag('docs/x.md', `see \`${BESIDE}/spec/kuik-v2-behaviour.md\``), 1, 'a doc outside');
  assert.equal(flag('x.ts', `process.env.${OLD_OVERRIDE}`), 1);
  // Machine paths built at run time, so that this file holds none itself.
  const abs = (...parts: string[]) => `/${parts.join('/')}`;
  assert.equal(flag('x.sh', `cat ${abs('work', 'shared', 'tools', 'mkimage.py')}`), 1);
  assert.equal(flag('x.sh', `ls ${abs('root', '.cache')}`), 1);
  assert.equal(flag('shared/image/x.ts', `import { x } from '${BESIDE}/log.ts'`), 1, 'no shared/shared');
  assert.equal(
    flag('scripts/kuik.ts', `import { x } from '${BESIDE}/log.ts'`),
    0,
    'the repository’s shared/',
  );
  assert.equal(flag('docs/x.md', '[install](../manifests/kustomization.yaml)'), 0);
  assert.equal(flag('x.ts', "join(homedir(), '.cache/kuik-functions')"), 0);
});

test('every §N cited is a section of docs/behaviour.md', () => {
  const doc = readFileSync(join(repoRoot, 'docs/behaviour.md'), 'utf8');
  const sections = new Set([...doc.matchAll(/^#+ §(\d+(?:\.\d+)*) /gm)].map((m) => m[1]));
  assert.ok(sections.size > 50, 'behaviour.md has its sections');
  const missing = new Set<string>();
  for (const { file, text } of texts) {
    for (const m of text.matchAll(/§(\d+(?:\.\d+)*)/g)) {
      if (!sections.has(m[1]!)) missing.add(`§${m[1]} (${file}:${lineOf(text, m.index)})`);
    }
  }
  assert.deepEqual([...missing], []);
});
