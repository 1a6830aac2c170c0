// Which ConfigMap or Secret key a file in a pod comes from: how the CLI finds, from the router's
// Deployment, the configuration file (KUIK_CONFIG) and the CA bundle (NODE_EXTRA_CA_CERTS) the
// router actually reads, whatever the manifests or the Helm values named them. Pure.
import { posix } from 'node:path';
import type { V1Container, V1KeyToPath, V1PodSpec } from '@kubernetes/client-node';

export interface FileSource {
  kind: 'ConfigMap' | 'Secret';
  name: string;
  key: string;
}

export function describeSource(s: FileSource, namespace: string): string {
  return `${s.kind} ${namespace}/${s.name} key ${s.key}`;
}

/** The value of an env var set literally on the container (valueFrom is not followed). */
export function envValue(container: V1Container | undefined, name: string): string | undefined {
  return container?.env?.find((e) => e.name === name)?.value;
}

function keyFor(items: readonly V1KeyToPath[] | undefined, rel: string): string | undefined {
  if (items && items.length > 0) return items.find((i) => posix.normalize(i.path) === rel)?.key;
  return rel.includes('/') ? undefined : rel;
}

/** The ConfigMap/Secret keys that may hold `path` in `container` of `spec` (usually one). */
export function fileSources(
  spec: V1PodSpec | undefined,
  container: V1Container | undefined,
  path: string,
): FileSource[] {
  const target = posix.normalize(path);
  const out: FileSource[] = [];
  for (const m of container?.volumeMounts ?? []) {
    const mountPath = posix.normalize(m.mountPath).replace(/(.)\/$/, '$1');
    let rel: string | undefined;
    if (m.subPath) {
      if (target === mountPath) rel = posix.normalize(m.subPath);
      else if (target.startsWith(`${mountPath}/`))
        rel = posix.join(m.subPath, target.slice(mountPath.length + 1));
    } else if (target.startsWith(`${mountPath}/`)) rel = target.slice(mountPath.length + 1);
    if (rel === undefined) continue;
    const volume = spec?.volumes?.find((v) => v.name === m.name);
    const sources: { kind: FileSource['kind']; name: string | undefined; items?: V1KeyToPath[] }[] = [];
    if (volume?.configMap)
      sources.push({ kind: 'ConfigMap', name: volume.configMap.name, items: volume.configMap.items });
    if (volume?.secret)
      sources.push({ kind: 'Secret', name: volume.secret.secretName, items: volume.secret.items });
    for (const p of volume?.projected?.sources ?? []) {
      if (p.configMap) sources.push({ kind: 'ConfigMap', name: p.configMap.name, items: p.configMap.items });
      if (p.secret) sources.push({ kind: 'Secret', name: p.secret.name, items: p.secret.items });
    }
    for (const s of sources) {
      const key = keyFor(s.items, rel);
      if (s.name && key) out.push({ kind: s.kind, name: s.name, key });
    }
  }
  return out;
}
