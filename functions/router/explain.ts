// `kuik explain`: what the router would do with a pod, computed by the router's own decision code
// as a dry run (no secret copy, no status write). For a pod already admitted, the images the user
// wrote are restored from the original-images annotation first, so the question answered is
// "where would this pod go if it were created now?".
import type { V1Pod } from '@kubernetes/client-node';
import { ORIGINAL_IMAGES_ANNOTATION } from '#shared/crd/types.ts';
import { describeSlot, parseOriginals, podImageRefs, setPodImage } from '#shared/kube/pod-images.ts';
import {
  type Admission,
  admit,
  DECISIONS_ANNOTATION,
  REASON_ANNOTATION,
  REWRITTEN_BY_ANNOTATION,
  type RouterDeps,
} from './decide.ts';

export function podAsWritten(pod: V1Pod, namespace: string): V1Pod {
  const p = structuredClone(pod);
  const annotations = { ...p.metadata?.annotations };
  const { map } = parseOriginals(annotations[ORIGINAL_IMAGES_ANNOTATION]);
  // Every reference the router may have rewritten, image volumes included (whatever the
  // imageVolumes switch says now: what the pod was written with is what it was written with).
  for (const r of podImageRefs(p)) {
    const original = map[r.key];
    if (original) setPodImage(p, r, original);
  }
  for (const k of [
    ORIGINAL_IMAGES_ANNOTATION,
    REWRITTEN_BY_ANNOTATION,
    REASON_ANNOTATION,
    DECISIONS_ANNOTATION,
  ])
    delete annotations[k];
  p.metadata = { ...p.metadata, namespace, annotations };
  // Ephemeral containers cannot be created with a pod; explain them like containers.
  const ephemeral = p.spec?.ephemeralContainers ?? [];
  if (p.spec && ephemeral.length > 0) {
    p.spec.containers = [
      ...p.spec.containers,
      ...ephemeral.map((e) => ({ name: e.name, image: e.image ?? '', imagePullPolicy: e.imagePullPolicy })),
    ];
    delete p.spec.ephemeralContainers;
  }
  return p;
}

export async function explainPod(pod: V1Pod, namespace: string, deps: RouterDeps): Promise<Admission> {
  return await admit(
    { operation: 'CREATE', namespace, dryRun: true, object: podAsWritten(pod, namespace) },
    deps,
  );
}

export function renderExplanation(a: Admission, podName: string): string {
  const lines: string[] = [];
  if (a.skipped)
    return `${podName}: not routed (${a.skipped === 'static-pod' ? 'static pod' : 'matches the global skip filter'})`;
  if (a.decisions.length === 0)
    lines.push(`${podName}: no routing CR applies to any container or image volume; images stay as written.`);
  for (const d of a.decisions) {
    const rewritten = d.by !== 'original';
    lines.push(`${describeSlot(d.slot, d.container)}: ${d.original}`);
    lines.push(
      `  → ${rewritten ? d.chosen : 'unchanged'}   (${d.reason}${rewritten ? `, from ${d.by}` : ''})`,
    );
    const rejected = new Map(d.rejected.map((r) => [r.image, r]));
    d.alternatives.forEach((alt, i) => {
      const r = rejected.get(alt.image);
      const mark =
        alt.image === d.chosen || (!rewritten && alt.by === 'original' && d.reason === 'OriginalAvailable')
          ? 'chosen'
          : r
            ? r.result
            : 'not tried';
      lines.push(
        `  ${String(i + 1).padStart(2)}. ${alt.image}  [${alt.by}]  ${mark}${r ? `: ${r.message}` : ''}`,
      );
      if (r?.result === 'QuotaExceeded')
        lines.push(
          '      refused for quota, not gone: used if nothing else is available (docs/shared-quota.md)',
        );
    });
    if (d.reason === 'QuotaLimited')
      lines.push(
        '  nothing was available; the chosen one only refused us for quota, so it still has the image and serves it once the quota resets',
      );
  }
  for (const n of a.notes) lines.push(`note: ${n}`);
  return lines.join('\n');
}
