import assert from 'node:assert/strict';
import { test } from 'node:test';
import { kindFor, parseCommand } from './args.ts';
import { UsageError } from './errors.ts';

const usage = (argv: string[], message: RegExp) =>
  assert.throws(
    () => parseCommand(argv),
    (e: unknown) => e instanceof UsageError && e.exitCode === 2 && message.test(e.message),
  );

test('kubectl-style flags are parsed: --kubeconfig, --context, -n, -A, -o, repeated -f and --ca-file', () => {
  const cmd = parseCommand([
    'explain',
    '--kubeconfig',
    'k.yaml',
    '--context=dev',
    '-n',
    'demo',
    '-o',
    'wide',
    '-f',
    'a.yaml',
    '-f',
    '-',
    '--ca-file',
    'ca1.pem',
    '--ca-file',
    'ca2.pem',
  ]);
  assert.deepEqual(cmd, {
    kind: 'explain',
    pods: [],
    opts: {
      kubeconfig: 'k.yaml',
      context: 'dev',
      namespace: 'demo',
      allNamespaces: false,
      output: 'wide',
      filenames: ['a.yaml', '-'],
      caFiles: ['ca1.pem', 'ca2.pem'],
    },
  });
  const all = parseCommand(['explain', '-A', '-o', 'json']);
  assert.equal(all.kind === 'explain' && all.opts.allNamespaces, true);
});

test('--help and help answer help (printed on stdout by main)', () => {
  assert.deepEqual(parseCommand(['--help']), { kind: 'help' });
  assert.deepEqual(parseCommand(['explain', '-h']), { kind: 'help' });
  assert.deepEqual(parseCommand(['help']), { kind: 'help' });
});

test('preview takes KIND/NAME or KIND NAME with any spelling of the kind, or -f', () => {
  for (const argv of [
    ['preview', 'ism/demo'],
    ['preview', 'imagesetmirror', 'demo'],
    ['preview', 'ImageSetMirrors.kuik.enix.io/demo'],
  ]) {
    const cmd = parseCommand(argv);
    assert.equal(cmd.kind, 'preview');
    if (cmd.kind === 'preview')
      assert.deepEqual([cmd.target?.info.kind, cmd.target?.name], ['ImageSetMirror', 'demo']);
  }
  const file = parseCommand(['preview', '-f', 'cr.yaml']);
  assert.equal(file.kind === 'preview' && file.target, undefined);
  assert.equal(kindFor('cris')?.kind, 'ClusterReplicatedImageSet');
  assert.equal(kindFor('pods'), undefined);
});

test('--config-from takes NAMESPACE/NAME', () => {
  const cmd = parseCommand(['explain', 'p', '--config-from', 'kuik/my-config']);
  assert.deepEqual(cmd.kind === 'explain' && cmd.opts.configFrom, { namespace: 'kuik', name: 'my-config' });
  usage(['explain', 'p', '--config-from', 'my-config'], /--config-from wants NAMESPACE\/NAME/);
});

test('each command-line mistake is a usage error that names it', () => {
  usage(['explain', '--bogus'], /^unknown flag --bogus \(see kuik --help\)$/);
  usage(['explain', '-x'], /^unknown flag -x/);
  usage(['explain', 'p', '-o', 'xml'], /unknown output format "xml": use -o json, -o yaml or -o wide/);
  usage(['explain', 'p', '-o'], /flag -o\/--output needs a value/);
  usage([], /missing command/);
  usage(['describe', 'p'], /unknown command "describe"/);
  usage(['explain', 'p', '-f', 'x.yaml'], /POD names or -f/);
  usage(['explain', '-A', 'p'], /-A explains every pod/);
  usage(['explain', '-A', '-n', 'x'], /-A and -n/);
  usage(['explain', 'p', '--config', 'c.yaml', '--config-from', 'a/b'], /keep one/);
  usage(['preview'], /KIND\/NAME/);
  usage(['preview', 'deploy/web'], /unknown kind "deploy": use one of ism, cism, ris, cris, cisa/);
  usage(['preview', 'cism/x', '-n', 'demo'], /cluster-wide: drop -n/);
  usage(['preview', '-A', 'ism/x'], /no -A/);
});
