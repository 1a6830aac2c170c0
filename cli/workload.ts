// `-f FILE`: the pods a file describes. A Pod is itself; a workload is its pod template (what its
// controller would create, labels and annotations included, since CR filters select on them).
// Several YAML documents and `kind: List` are read; other kinds (Services, ConfigMaps: a whole
// app's manifest) are skipped and reported. Pure.
import type { V1Pod } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';

export interface FilePod {
  /** The pod as the controller would create it (no name for a template: see `label`). */
  pod: V1Pod;
  /** How to call it in the output: `web` for a Pod, `Deployment/web` for a template. */
  label: string;
  /** The namespace the document names, if any. */
  namespace?: string;
}

export interface FileContent {
  pods: FilePod[];
  /** `Service/web` and the like: documents that hold no pod. */
  skipped: string[];
}

export const WORKLOAD_KINDS = [
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'ReplicaSet',
  'ReplicationController',
  'Job',
  'CronJob',
] as const;

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);
const at = (o: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>((x, k) => (isObj(x) ? x[k] : undefined), o);

/** The pod template of a workload, or the pod itself; undefined for other kinds. */
export function podTemplateOf(doc: Obj): V1Pod | undefined {
  const kind = doc['kind'];
  if (kind === 'Pod') return doc as V1Pod;
  const template =
    kind === 'CronJob'
      ? at(doc, 'spec', 'jobTemplate', 'spec', 'template')
      : (WORKLOAD_KINDS as readonly unknown[]).includes(kind)
        ? at(doc, 'spec', 'template')
        : undefined;
  if (!isObj(template)) return undefined;
  return { apiVersion: 'v1', kind: 'Pod', ...(template as V1Pod) };
}

function collect(doc: unknown, where: string, out: FileContent): void {
  if (!isObj(doc)) return; // an empty document (`---` at the end) holds nothing
  if (doc['kind'] === 'List' || (doc['kind'] === undefined && Array.isArray(doc['items']))) {
    (doc['items'] as unknown[] | undefined)?.forEach((item, i) => {
      collect(item, `${where} item ${i + 1}`, out);
    });
    return;
  }
  const name = at(doc, 'metadata', 'name');
  const label = `${String(doc['kind'] ?? '(no kind)')}/${typeof name === 'string' ? name : '(unnamed)'}`;
  const pod = podTemplateOf(doc);
  if (!pod) {
    out.skipped.push(label);
    return;
  }
  const namespace = at(doc, 'metadata', 'namespace');
  const podName = at(pod, 'metadata', 'name') ?? at(pod, 'metadata', 'generateName');
  out.pods.push({
    pod,
    label: doc['kind'] === 'Pod' ? String(podName ?? '(unnamed)') : label,
    ...(typeof namespace === 'string' ? { namespace } : {}),
  });
}

/** Every pod in a YAML or JSON text; throws with the document and line of a syntax error. */
export function podsFromText(text: string, file: string): FileContent {
  const out: FileContent = { pods: [], skipped: [] };
  parseAllDocuments(text).forEach((doc, i) => {
    const where = `${file} document ${i + 1}`;
    if (doc.errors.length > 0) {
      const e = doc.errors[0];
      const line = e?.linePos?.[0]?.line;
      throw new Error(
        `${where} is not valid YAML${line ? ` (line ${line})` : ''}: ${(e?.message ?? '').split('\n')[0]}`,
      );
    }
    collect(doc.toJS(), where, out);
  });
  return out;
}
