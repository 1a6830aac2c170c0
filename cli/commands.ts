// explain and preview: read what they need (files first, so a wrong path fails before any network),
// reach the cluster, take the router's configuration and CAs, run the router's decision as a dry
// run, and return the text to print. Messages for stderr go through `warn`.
import { readFile } from 'node:fs/promises';
import type { V1Pod } from '@kubernetes/client-node';
import YAML from 'yaml';
import {
  type ClusterImageSetAvailability,
  GROUP,
  KINDS,
  type KindInfo,
  type KuikObject,
  type TagDrift,
} from '#shared/crd/types.ts';
import { errorMessage } from '#shared/errors.ts';
import { compileGlobalSkip, compileSelection, invalidFilterNote } from '#shared/filter/filter.ts';
import { normalizeReference } from '#shared/image/reference.ts';
import { apiStatus, listKuik } from '#shared/kube/client.ts';
import { podImageRefs } from '#shared/kube/pod-images.ts';
import type { Admission } from '../functions/router/decide.ts';
import { explainPod, podAsWritten } from '../functions/router/explain.ts';
import type { Command, Options } from './args.ts';
import { CliError } from './errors.ts';
import { type Cluster, openCluster } from './kube.ts';
import { type Explained, type Preview, type PreviewRow, renderExplained, renderPreview } from './output.ts';
import { type RouterConfiguration, routerConfiguration } from './router-config.ts';
import { dryRunDeps, loadRoutingCrs, type RoutingCrs, withCr } from './routing.ts';
import { readCaFiles, trustCAs } from './trust.ts';
import { type FilePod, podsFromText } from './workload.ts';

export interface Io {
  warn(line: string): void;
  stdin(): Promise<string>;
  env: NodeJS.ProcessEnv;
}

async function readInput(file: string, io: Io): Promise<string> {
  if (file === '-') return await io.stdin();
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(
      code === 'ENOENT'
        ? `file ${file} does not exist: check the -f path`
        : `cannot read ${file} (${code ?? errorMessage(err)}): check the -f path`,
    );
  }
}

/** The "configuration: …" line, with the setting users most often need to compare. */
export function configurationLine(rc: RouterConfiguration, caFiles: readonly { source: string }[]): string {
  const cas = ['system', ...rc.cas.map((c) => c.source), ...caFiles.map((c) => c.source)];
  return `${rc.source} (probe timeout ${rc.config.routing.activeCheck.timeout} ms); CAs: ${cas.join(' + ')}`;
}

/** Config, CAs, and the stderr lines about them. */
async function prepare(
  cluster: Cluster,
  opts: Options,
  io: Io,
): Promise<{ rc: RouterConfiguration; line: string }> {
  const caFiles = await readCaFiles(opts.caFiles);
  const rc = await routerConfiguration(cluster, opts);
  trustCAs([...rc.cas, ...caFiles]);
  const line = configurationLine(rc, caFiles);
  io.warn(`configuration: ${line}`);
  for (const w of rc.warnings) io.warn(`warning: ${w}`);
  return { rc, line };
}

const CERT_PROBLEM = /certificate|self[- ]signed|UNABLE_TO_VERIFY|CERT_/i;

/** A registry we could not verify: say how to trust it, once. */
function certificateHint(admissions: readonly Admission[], io: Io): void {
  const bad = admissions
    .flatMap((a) => a.decisions.flatMap((d) => d.rejected))
    .find((r) => CERT_PROBLEM.test(r.message));
  if (bad)
    io.warn(
      `hint: ${bad.image}: the registry's TLS certificate is not trusted here (${bad.message}); pass its CA with --ca-file FILE (or set NODE_EXTRA_CA_CERTS), as the router is given it`,
    );
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i] as T);
      }
    }),
  );
  return out;
}

interface Target {
  pod: V1Pod;
  namespace: string;
  label: string;
}

async function explainTargets(
  cluster: Cluster,
  pods: readonly string[],
  opts: Options,
  io: Io,
): Promise<Target[]> {
  if (pods.length > 0) {
    const ns = cluster.namespace;
    return await Promise.all(
      pods.map(async (name) => {
        try {
          const pod = await cluster.call(`reading pod ${ns}/${name}`, () =>
            cluster.kube.core.readNamespacedPod({ namespace: ns, name }),
          );
          return { pod, namespace: ns, label: `${ns}/${name}` };
        } catch (err) {
          if (apiStatus(err) === 404)
            throw new CliError(
              `pod ${ns}/${name} not found: check the name and -n (kubectl get pods -n ${ns})`,
            );
          throw err;
        }
      }),
    );
  }
  const list = await cluster.call(
    opts.allNamespaces ? 'listing pods in all namespaces' : `listing pods in ${cluster.namespace}`,
    () =>
      opts.allNamespaces
        ? cluster.kube.core.listPodForAllNamespaces()
        : cluster.kube.core.listNamespacedPod({ namespace: cluster.namespace }),
  );
  if (list.items.length === 0)
    io.warn(`no pods ${opts.allNamespaces ? 'in any namespace' : `in namespace ${cluster.namespace}`}`);
  return list.items.map((pod) => {
    const ns = pod.metadata?.namespace ?? cluster.namespace;
    return { pod, namespace: ns, label: `${ns}/${pod.metadata?.name ?? '(unnamed)'}` };
  });
}

async function readFilePods(opts: Options, io: Io): Promise<FilePod[]> {
  const out: FilePod[] = [];
  for (const file of opts.filenames) {
    const text = await readInput(file, io);
    let content: ReturnType<typeof podsFromText>;
    try {
      content = podsFromText(text, file === '-' ? 'stdin' : file);
    } catch (err) {
      throw new CliError(`${errorMessage(err)}: fix the file`);
    }
    if (content.skipped.length > 0) io.warn(`skipped (no pod template): ${content.skipped.join(', ')}`);
    out.push(...content.pods);
  }
  if (out.length === 0)
    throw new CliError(
      `${opts.filenames.join(', ')} holds no Pod or workload (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob)`,
    );
  return out;
}

export async function explain(cmd: Extract<Command, { kind: 'explain' }>, io: Io): Promise<string> {
  const { opts } = cmd;
  const filePods = opts.filenames.length > 0 ? await readFilePods(opts, io) : [];
  const cluster = openCluster(opts, io.env);
  const { rc, line } = await prepare(cluster, opts, io);
  const targets: Target[] =
    filePods.length > 0
      ? filePods.map((fp) => {
          const ns = opts.namespace ?? fp.namespace ?? cluster.namespace;
          return { pod: fp.pod, namespace: ns, label: `${ns}/${fp.label}` };
        })
      : await explainTargets(cluster, cmd.pods, opts, io);
  const crs = await loadRoutingCrs(cluster, opts.allNamespaces ? 'all' : targets.map((t) => t.namespace));
  const run = dryRunDeps(cluster, rc.config, crs);
  try {
    const drifts = await recordedDrifts(cluster, io);
    const results: Explained[] = await mapLimit(targets, 8, async (t) => {
      const admission = await explainPod(t.pod, t.namespace, run.deps);
      const found = admission.decisions.flatMap((d) => {
        const image = normalizeReference(d.original);
        const drift = image ? drifts.get(image) : undefined;
        return drift && image ? [{ container: d.container, image, drift }] : [];
      });
      return { pod: t.label, admission, ...(found.length > 0 ? { drifts: found } : {}) };
    });
    certificateHint(
      results.map((r) => r.admission),
      io,
    );
    return renderExplained(results, opts.output, line);
  } finally {
    await run.close();
  }
}

/**
 * Tag drift the monitor recorded in ClusterImageSetAvailability status, by image. Optional: a user
 * who may not list CISAs still gets the routing explanation.
 */
async function recordedDrifts(cluster: Cluster, io: Io): Promise<Map<string, TagDrift>> {
  const out = new Map<string, TagDrift>();
  try {
    const list = await listKuik<ClusterImageSetAvailability>(cluster.kube, 'ClusterImageSetAvailability');
    for (const c of list)
      for (const i of c.status?.images ?? []) if (i.drift && !out.has(i.image)) out.set(i.image, i.drift);
  } catch (err) {
    io.warn(
      `warning: tag drift not shown: listing ClusterImageSetAvailabilities: ${errorMessage(err).split('\n')[0]}`,
    );
  }
  return out;
}

// --- preview ---

function isKuikObject(doc: unknown): doc is KuikObject {
  const d = doc as { apiVersion?: unknown; kind?: unknown };
  return (
    typeof d?.apiVersion === 'string' &&
    d.apiVersion.startsWith(`${GROUP}/`) &&
    KINDS.some((k) => k.kind === d.kind)
  );
}

async function previewTarget(
  cmd: Extract<Command, { kind: 'preview' }>,
  cluster: Cluster,
  fileText: string | undefined,
): Promise<{ cr: KuikObject; info: KindInfo; fromFile: boolean }> {
  if (!cmd.target) {
    const file = cmd.opts.filenames[0] as string;
    const parsed = YAML.parseAllDocuments(fileText ?? '');
    const bad = parsed.find((d) => d.errors.length > 0);
    if (bad)
      throw new CliError(
        `${file} is not valid YAML (${bad.errors[0]?.message.split('\n')[0]}): fix the file`,
      );
    const docs = parsed.map((d) => d.toJS() as unknown).filter(isKuikObject);
    if (docs.length !== 1)
      throw new CliError(
        `${file} holds ${docs.length} kuik CRs (${KINDS.map((k) => k.kind).join(', ')}): preview takes exactly one`,
      );
    const cr = docs[0] as KuikObject;
    const info = KINDS.find((k) => k.kind === cr.kind) as KindInfo;
    if (info.namespaced)
      cr.metadata.namespace = cmd.opts.namespace ?? cr.metadata.namespace ?? cluster.namespace;
    return { cr, info, fromFile: true };
  }
  const { info, name } = cmd.target;
  const ns = info.namespaced ? cluster.namespace : undefined;
  const where = ns ? `${ns}/${name}` : name;
  try {
    const cr = (await cluster.call(`reading ${info.kind} ${where}`, () =>
      cluster.kube.getKuik<KuikObject>({ kind: info.kind, name, ...(ns ? { namespace: ns } : {}) }),
    )) as KuikObject;
    return { cr, info, fromFile: false };
  } catch (err) {
    if (apiStatus(err) === 404)
      throw new CliError(
        `${info.kind} ${where} not found: check the name${ns ? ' and -n' : ''} (kubectl get ${info.shortName}${ns ? ` -n ${ns}` : ''})`,
      );
    throw err;
  }
}

export async function preview(cmd: Extract<Command, { kind: 'preview' }>, io: Io): Promise<string> {
  const { opts } = cmd;
  if (opts.filenames.length > 1) throw new CliError('preview takes one -f FILE');
  const fileText = cmd.target ? undefined : await readInput(opts.filenames[0] as string, io);
  const cluster = openCluster(opts, io.env);
  const { cr, info, fromFile } = await previewTarget(cmd, cluster, fileText);
  const { rc, line } = await prepare(cluster, opts, io);
  const ns = cr.metadata.namespace;
  const crName = `${cr.kind}/${cr.metadata.name}`;
  const notes: string[] = [];
  if (cr.kind === 'ClusterImageSetAvailability')
    notes.push(
      'a ClusterImageSetAvailability is monitored, not routed: the router column is what the routing CRs do',
    );
  if (fromFile) notes.push(`${crName} is read from ${opts.filenames[0]}, not from the cluster`);
  const pods = (
    await cluster.call(ns ? `listing pods in ${ns}` : 'listing pods in all namespaces', () =>
      ns
        ? cluster.kube.core.listNamespacedPod({ namespace: ns })
        : cluster.kube.core.listPodForAllNamespaces(),
    )
  ).items;
  const base: Preview = {
    cr: `${info.kind} ${ns ? `${ns}/` : ''}${cr.metadata.name}`,
    configuration: line,
    scope: ns ? `namespace ${ns}` : 'all namespaces',
    podsInScope: pods.length,
    matches: [],
    notes,
  };
  const selection = compileSelection(cr);
  if (!selection.ok) {
    notes.push(`${invalidFilterNote(selection.error)}: the router ignores this CR`);
    return renderPreview(base, opts.output);
  }
  const skip = compileGlobalSkip(rc.config.skipLabels, rc.config.skipAnnotations);
  const skipped = skip.ok ? skip.value : () => false;
  const { podMatcher, imageFilter } = selection.value;
  const matched: { pod: V1Pod; namespace: string; rows: PreviewRow[] }[] = [];
  let globallySkipped = 0;
  for (const pod of pods) {
    const podNs = pod.metadata?.namespace ?? '';
    if (skipped(pod)) {
      globallySkipped++;
      continue;
    }
    if (!podMatcher(pod)) continue;
    const written = podAsWritten(pod, podNs);
    const rows: PreviewRow[] = [];
    // The references the router routes: containers (ephemeral ones became containers in
    // podAsWritten), init containers and, with the imageVolumes switch on, image volumes
    // (`volume:NAME`, the key of their decision).
    for (const r of podImageRefs(written, { imageVolumes: rc.config.imageVolumes })) {
      const image = r.image ? normalizeReference(r.image) : undefined;
      if (image && imageFilter(image))
        rows.push({
          pod: `${podNs}/${pod.metadata?.name}`,
          container: r.key,
          image,
          chosenFromThisCr: false,
        });
    }
    if (rows.length > 0) matched.push({ pod, namespace: podNs, rows });
  }
  if (globallySkipped > 0)
    notes.push(
      `${globallySkipped} pod(s) left out: they match the configuration's skipLabels/skipAnnotations`,
    );
  if (matched.length > 0) {
    let crs: RoutingCrs = await loadRoutingCrs(
      cluster,
      ns ? [ns] : [...new Set(matched.map((m) => m.namespace))],
    );
    if (fromFile) crs = withCr(crs, cr);
    const run = dryRunDeps(cluster, rc.config, crs);
    try {
      const admissions = await mapLimit(matched, 8, async (m) => {
        const a = await explainPod(m.pod, m.namespace, run.deps);
        for (const row of m.rows) {
          const d = a.decisions.find((x) => x.key === row.container || x.container === row.container);
          if (d) {
            row.decision = d;
            row.chosenFromThisCr = d.by === crName;
          }
        }
        return a;
      });
      certificateHint(admissions, io);
    } finally {
      await run.close();
    }
  }
  base.matches = matched.flatMap((m) => m.rows);
  return renderPreview(base, opts.output);
}
