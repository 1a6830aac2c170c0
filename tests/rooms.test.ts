// The architecture's one structural rule: a function is a room. A file under functions/X/ imports
// only from functions/X/, shared/ and packages; shared/ imports nothing of functions/. Only
// functions/main.ts, the entry that selects a function, reaches into every room. Nothing else
// enforced this, and it was broken nine times (issue 15).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, test } from 'node:test';
import ts from 'typescript';
import { repoRoot } from './harness/tools.ts';

export interface Violation {
  file: string;
  import: string;
  why: string;
}

/** The room a repository path belongs to: `functions/X`, `shared`, or undefined (anything else). */
function roomOf(path: string): string | undefined {
  const parts = path.split('/');
  if (parts[0] === 'shared') return 'shared';
  if (parts[0] === 'functions' && parts.length > 2) return `functions/${parts[1]}`;
  return undefined;
}

/** Where an import specifier points, as a repository path; undefined for packages. */
function target(from: string, spec: string): string | undefined {
  if (spec.startsWith('#shared/')) return `shared/${spec.slice('#shared/'.length)}`;
  if (!spec.startsWith('.')) return undefined;
  return relative('/', resolve('/', dirname(from), spec))
    .split(sep)
    .join('/');
}

/**
 * Every import of `files` (repository path → source) that crosses a room: static imports,
 * re-exports, `import()` with a literal and `import type` alike (a type import still ties one
 * room's code to another's). Pure, so the rule itself is tested below on made-up files.
 */
export function roomViolations(files: ReadonlyMap<string, string>): Violation[] {
  const out: Violation[] = [];
  for (const [file, text] of files) {
    if (file === 'functions/main.ts') continue;
    const room = roomOf(file);
    if (!room) continue;
    for (const { fileName: spec } of ts.preProcessFile(text, true, true).importedFiles) {
      const to = target(file, spec);
      if (to === undefined) continue;
      const toRoom = roomOf(to);
      if (room === 'shared' && to.startsWith('functions/'))
        out.push({ file, import: spec, why: `shared/ imports ${to}` });
      else if (room !== 'shared' && toRoom?.startsWith('functions/') && toRoom !== room)
        out.push({ file, import: spec, why: `${room} imports ${toRoom}` });
    }
  }
  return out.sort((a, b) => (a.file + a.import < b.file + b.import ? -1 : 1));
}

/**
 * Every string or template literal of `files` outside shared/kube/ that starts an API server path
 * (`/api/…`, `/apis/…`): shared/kube is the one place that builds them (issue 15), so a group,
 * version or resource name is spelled once. Literals, not comments; test files are exempt.
 */
export function apiPathViolations(files: ReadonlyMap<string, string>): Violation[] {
  const out: Violation[] = [];
  for (const [file, text] of files) {
    if (file.startsWith('shared/kube/') || file.endsWith('.test.ts')) continue;
    const visit = (node: ts.Node): void => {
      if (
        (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node) || ts.isTemplateHead(node)) &&
        /^\/apis?\//.test(node.text)
      )
        out.push({ file, import: node.text, why: 'an API path built outside shared/kube' });
      ts.forEachChild(node, visit);
    };
    visit(ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true));
  }
  return out;
}

function sources(dir: string, out = new Map<string, string>()): Map<string, string> {
  for (const name of readdirSync(join(repoRoot, dir))) {
    const p = `${dir}/${name}`;
    if (statSync(join(repoRoot, p)).isDirectory()) sources(p, out);
    else if (name.endsWith('.ts')) out.set(p, readFileSync(join(repoRoot, p), 'utf8'));
  }
  return out;
}

describe('the rooms', () => {
  test('no file under functions/X/ imports functions/Y/, and shared/ imports nothing of functions/', () => {
    const found = roomViolations(new Map([...sources('functions'), ...sources('shared')]));
    assert.deepEqual(
      found.map((v) => `${v.file} → ${v.import} (${v.why})`),
      [],
      'a function imports another room: move what both need to shared/',
    );
  });

  test('API paths are built only in shared/kube', () => {
    const found = apiPathViolations(new Map([...sources('functions'), ...sources('shared')]));
    assert.deepEqual(
      found.map((v) => `${v.file}: ${v.import}`),
      [],
      'use (or add) a path helper in shared/kube/client.ts',
    );
  });

  test('the API path rule on made-up files: literals and templates outside shared/kube, not comments or tests', () => {
    const files = new Map([
      [
        'functions/router/a.ts',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the source text of a made-up file.
        "// GET /api/v1/pods\nconst p = '/api/v1/secrets';\nconst q = `/apis/${g}/v1/x`;",
      ],
      ['functions/router/a.test.ts', "const p = '/api/v1/secrets';"],
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the source text of a made-up file.
      ['shared/kube/client.ts', 'const c = `/apis/${GROUP}/${VERSION}`;'],
      ['shared/x.ts', 'const u = "/apis/kuik.enix.io/v1alpha1";\nconst v = \'/apiary\';'],
    ]);
    assert.deepEqual(
      apiPathViolations(files).map((v) => `${v.file}: ${v.import}`),
      [
        'functions/router/a.ts: /api/v1/secrets',
        'functions/router/a.ts: /apis/',
        'shared/x.ts: /apis/kuik.enix.io/v1alpha1',
      ],
    );
  });

  test('the rule on made-up files: every crossing reported with its file and import', () => {
    const files = new Map([
      ['functions/main.ts', "import { a } from './router/main.ts';\nawait import('./copy/main.ts');"],
      ['functions/router/a.ts', "import { b } from './b.ts';\nimport { c } from '#shared/c.ts';"],
      ['functions/router/b.ts', "import type { T } from '../monitor/tick.ts';\nimport 'hono';"],
      ['functions/router/c/d.ts', "export { x } from '../../copy/x.ts';\nimport { y } from '../y.ts';"],
      ['functions/copy/e.ts', "const m = await import('../reconcile/server.ts');"],
      ['shared/f.ts', "import { g } from '../functions/copy/g.ts';\nimport { h } from './h.ts';"],
      ['shared/k/l.ts', "import { m } from '#shared/m.ts';"],
      ['tests/t.ts', "import { z } from '../functions/copy/z.ts';"],
    ]);
    assert.deepEqual(roomViolations(files), [
      {
        file: 'functions/copy/e.ts',
        import: '../reconcile/server.ts',
        why: 'functions/copy imports functions/reconcile',
      },
      {
        file: 'functions/router/b.ts',
        import: '../monitor/tick.ts',
        why: 'functions/router imports functions/monitor',
      },
      {
        file: 'functions/router/c/d.ts',
        import: '../../copy/x.ts',
        why: 'functions/router imports functions/copy',
      },
      { file: 'shared/f.ts', import: '../functions/copy/g.ts', why: 'shared/ imports functions/copy/g.ts' },
    ]);
  });
});
