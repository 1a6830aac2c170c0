// The command line, parsed strictly (node:util parseArgs): an unknown flag, a missing value or a
// contradiction is a UsageError naming it, before anything touches the cluster. Pure.

import { parseArgs } from 'node:util';
import { KINDS, type KindInfo } from '#shared/crd/types.ts';
import { errorMessage } from '#shared/errors.ts';
import { UsageError } from './errors.ts';

export const HELP = `kuik: what kube-image-keeper's router does with your pods, asked from your terminal.
Runs the router's own decision code as a dry run, with your kubeconfig, against the registries
reachable from here. Nothing is written to the cluster.

Usage:
  kubectl kuik explain POD... [-n NAMESPACE]    where each container of these pods would be routed, and why
  kubectl kuik explain [-n NAMESPACE | -A]      every pod of the namespace (or of all namespaces)
  kubectl kuik explain -f FILE...               pods or workloads from YAML/JSON (Pod, Deployment,
                                                StatefulSet, DaemonSet, ReplicaSet, Job, CronJob;
                                                several documents per file; -f - reads stdin)
  kubectl kuik preview KIND/NAME [-n NAMESPACE] which pods and images a routing CR matches, and what
                                                the router would do for each (KIND: ism, cism, ris,
                                                cris, cisa, or their full names)
  kubectl kuik preview -f CR.yaml               the same for a CR not applied yet
  (also: npx kuik …, npm run kuik -- …)

Flags:
  --kubeconfig FILE         kubeconfig to use (default: $KUBECONFIG, then ~/.kube/config)
  --context NAME            kubeconfig context to use (default: the current context)
  -n, --namespace NS        namespace (default: the context's namespace, then "default")
  -A, --all-namespaces      explain: every namespace
  -f, --filename FILE       read objects from FILE (repeatable; - for stdin)
  -o, --output FORMAT       json, yaml or wide (default: the readable explanation)
  --config FILE             the router configuration to use, from a file (kuik's config.yaml)
  --config-from NS/NAME     ... from this ConfigMap (key config.yaml); default kuik-system/kuik-config,
                            the one the manifests and the Helm chart mount into the router
  --ca-file FILE            also trust this CA (PEM) for registries (repeatable); the system CAs,
                            $NODE_EXTRA_CA_CERTS and the router's NODE_EXTRA_CA_CERTS are trusted too
  -h, --help                this help

The configuration used is printed on stderr ("configuration: …"). Exit codes: 0 done, 1 failed,
2 wrong command line.`;

export type OutputFormat = 'text' | 'json' | 'yaml' | 'wide';

export interface Options {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  allNamespaces: boolean;
  output: OutputFormat;
  filenames: string[];
  config?: string;
  configFrom?: { namespace: string; name: string };
  caFiles: string[];
}

export type Command =
  | { kind: 'help' }
  | { kind: 'explain'; pods: string[]; opts: Options }
  | { kind: 'preview'; target?: { info: KindInfo; name: string }; opts: Options };

const OUTPUTS: readonly string[] = ['json', 'yaml', 'wide'];

/** `ism`, `imagesetmirror`, `imagesetmirrors`, `ImageSetMirror`, `imagesetmirrors.kuik.enix.io`. */
export function kindFor(word: string): KindInfo | undefined {
  const w = word.toLowerCase().replace(/\.kuik\.enix\.io$/, '');
  return KINDS.find((k) => w === k.shortName || w === k.plural || w === k.kind.toLowerCase());
}

function parseErrorLine(err: unknown): string {
  const e = err as { code?: string; message?: string };
  const flag = /'(-[^' ,]+)(?:, (--[^' ]+))?/.exec(e.message ?? '');
  const name = flag ? (flag[2] ? `${flag[1]}/${flag[2]}` : flag[1]) : undefined;
  switch (e.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown flag ${name ?? ''}`.trim();
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return name ? `flag ${name} needs a value` : (e.message ?? 'invalid flag value');
    default:
      return errorMessage(err);
  }
}

export function parseCommand(argv: readonly string[]): Command {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    throw new UsageError(parseErrorLine(err));
  }
  const { values, positionals } = parsed;
  if (values.help || positionals[0] === 'help') return { kind: 'help' };
  const [verb, ...rest] = positionals;
  if (verb === undefined) throw new UsageError('missing command: explain or preview');
  const output = values.output ?? 'text';
  if (output !== 'text' && !OUTPUTS.includes(output))
    throw new UsageError(`unknown output format "${output}": use -o json, -o yaml or -o wide`);
  if (values.config !== undefined && values['config-from'] !== undefined)
    throw new UsageError('--config and --config-from both name a configuration: keep one');
  let configFrom: Options['configFrom'];
  if (values['config-from'] !== undefined) {
    const m = /^([a-z0-9][a-z0-9.-]*)\/([a-z0-9][a-z0-9.-]*)$/.exec(values['config-from']);
    if (!m) throw new UsageError(`--config-from wants NAMESPACE/NAME, got "${values['config-from']}"`);
    configFrom = { namespace: m[1] as string, name: m[2] as string };
  }
  const opts: Options = {
    ...(values.kubeconfig !== undefined ? { kubeconfig: values.kubeconfig } : {}),
    ...(values.context !== undefined ? { context: values.context } : {}),
    ...(values.namespace !== undefined ? { namespace: values.namespace } : {}),
    allNamespaces: values['all-namespaces'] ?? false,
    output: output as OutputFormat,
    filenames: values.filename ?? [],
    ...(values.config !== undefined ? { config: values.config } : {}),
    ...(configFrom ? { configFrom } : {}),
    caFiles: values['ca-file'] ?? [],
  };
  if (opts.allNamespaces && opts.namespace !== undefined)
    throw new UsageError('-A and -n contradict each other: keep one');
  switch (verb) {
    case 'explain': {
      if (rest.length > 0 && opts.filenames.length > 0)
        throw new UsageError('give POD names or -f FILE, not both');
      if (opts.allNamespaces && (rest.length > 0 || opts.filenames.length > 0))
        throw new UsageError('-A explains every pod: give no POD name and no -f with it');
      return { kind: 'explain', pods: rest, opts };
    }
    case 'preview': {
      if (opts.allNamespaces) throw new UsageError('preview takes no -A: a CR sets its own scope');
      if (opts.filenames.length > 0) {
        if (rest.length > 0) throw new UsageError('give KIND/NAME or -f FILE, not both');
        return { kind: 'preview', opts };
      }
      const words = rest.length === 1 ? (rest[0] as string).split('/') : rest;
      if (words.length !== 2 || !words[0] || !words[1])
        throw new UsageError('preview wants one CR: KIND/NAME, e.g. ism/my-mirror, or -f CR.yaml');
      const info = kindFor(words[0]);
      if (!info)
        throw new UsageError(
          `unknown kind "${words[0]}": use one of ${KINDS.map((k) => k.shortName).join(', ')}`,
        );
      if (!info.namespaced && opts.namespace !== undefined)
        throw new UsageError(`${info.kind} is cluster-wide: drop -n`);
      return { kind: 'preview', target: { info, name: words[1] }, opts };
    }
    default:
      throw new UsageError(`unknown command "${verb}": use explain or preview`);
  }
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: true,
    options: {
      kubeconfig: { type: 'string' },
      context: { type: 'string' },
      namespace: { type: 'string', short: 'n' },
      'all-namespaces': { type: 'boolean', short: 'A' },
      filename: { type: 'string', short: 'f', multiple: true },
      output: { type: 'string', short: 'o' },
      config: { type: 'string' },
      'config-from': { type: 'string' },
      'ca-file': { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
