// What the commands print, in each -o format. Pure: results in, text out.
import YAML from 'yaml';
import type { TagDrift } from '#shared/crd/types.ts';
import type { Admission, ContainerDecision } from '../functions/router/decide.ts';
import { renderExplanation } from '../functions/router/explain.ts';
import type { OutputFormat } from './args.ts';

export interface Explained {
  /** `namespace/name`, or `namespace/Deployment/web` for a workload's template. */
  pod: string;
  admission: Admission;
  /** Tag drift the monitor recorded for the containers' images (docs/tag-drift.md). */
  drifts?: ContainerDrift[];
}

export interface ContainerDrift {
  container: string;
  image: string;
  drift: TagDrift;
}

/** The lines `kuik explain` prints under a pod for its drifting tags. */
export function renderDrifts(drifts: readonly ContainerDrift[]): string[] {
  return drifts.map((d) => {
    const running = (d.drift.running ?? []).map((r) => `${r.digest} (${r.containers})`).join(', ') || 'none';
    const mirrors = (d.drift.mirrors ?? []).map((m) => `${m.image} holds ${m.digest}`).join('; ') || 'none';
    return `drift: container ${d.container}: ${d.image} names ${d.drift.upstream} upstream since ${d.drift.detectedAt}; running: ${running}; mirrors: ${mirrors}; action: ${d.drift.action ?? 'Reported'}`;
  });
}

/** Columns padded to their widest cell, two spaces apart, like kubectl's tables. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [header, ...rows]
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] as number)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function serialize(value: unknown, format: 'json' | 'yaml'): string {
  return format === 'json' ? JSON.stringify(value, null, 2) : YAML.stringify(value).trimEnd();
}

function explainedObject(e: Explained) {
  return {
    pod: e.pod,
    ...(e.admission.skipped ? { skipped: e.admission.skipped } : {}),
    decisions: e.admission.decisions,
    notes: e.admission.notes,
    ...(e.drifts && e.drifts.length > 0 ? { drifts: e.drifts } : {}),
  };
}

/** Where a container goes, in one cell: the image (or "unchanged") and why. */
export function verdict(d: ContainerDecision): string {
  return d.by === 'original' ? `unchanged (${d.reason})` : `${d.chosen} (${d.reason}, from ${d.by})`;
}

/** Every alternative with its verdict, in one cell. */
function tried(d: ContainerDecision): string {
  const rejected = new Map(d.rejected.map((r) => [r.image, r.result]));
  return d.alternatives
    .map((a) => `${a.image}=${a.image === d.chosen ? 'chosen' : (rejected.get(a.image) ?? 'not-tried')}`)
    .join(',');
}

export function renderExplained(
  results: readonly Explained[],
  format: OutputFormat,
  configuration: string,
): string {
  switch (format) {
    case 'json':
    case 'yaml': {
      const items = results.map(explainedObject);
      const value =
        results.length === 1 ? { configuration, ...items[0] } : { kind: 'List', configuration, items };
      return serialize(value, format);
    }
    case 'wide':
      return table(
        ['POD', 'CONTAINER', 'IMAGE', 'ROUTED TO', 'ALTERNATIVES'],
        results.flatMap((e) =>
          e.admission.skipped
            ? [[e.pod, '*', '', `not routed (${e.admission.skipped})`, '']]
            : e.admission.decisions.map((d) => [
                e.pod,
                // An image volume reads `volume:NAME`, so it is not taken for a container.
                d.slot === 'volumes' ? d.key : d.container,
                d.original,
                verdict(d),
                tried(d),
              ]),
        ),
      );
    case 'text':
      return results
        .map((e) => [renderExplanation(e.admission, e.pod), ...renderDrifts(e.drifts ?? [])].join('\n'))
        .join('\n\n');
  }
}

export interface PreviewRow {
  pod: string;
  container: string;
  /** The image as the pod's spec wrote it (normalized). */
  image: string;
  /** The router's decision for this container (all routing CRs, this one included). */
  decision?: ContainerDecision;
  /** This CR supplied the image the router would pick. */
  chosenFromThisCr: boolean;
}

export interface Preview {
  cr: string;
  configuration: string;
  /** `namespace demo`, or `all namespaces` for a cluster kind. */
  scope: string;
  podsInScope: number;
  /** Containers whose image the CR's filters select, in pods its pod filter selects. */
  matches: PreviewRow[];
  notes: string[];
}

export function renderPreview(p: Preview, format: OutputFormat): string {
  if (format === 'json' || format === 'yaml') return serialize(p, format);
  const pods = new Set(p.matches.map((m) => m.pod)).size;
  const head = `${p.cr} matches ${p.matches.length} container image(s) in ${pods} pod(s) (${p.scope}, ${p.podsInScope} pod(s) looked at)`;
  const rows = p.matches.map((m) => {
    const cells = [m.pod, m.container, m.image, m.decision ? verdict(m.decision) : 'no decision'];
    return format === 'wide' ? [...cells, m.decision ? tried(m.decision) : ''] : cells;
  });
  const header = [
    'POD',
    'CONTAINER',
    'IMAGE',
    'ROUTER WOULD USE',
    ...(format === 'wide' ? ['ALTERNATIVES'] : []),
  ];
  return [head, ...(rows.length > 0 ? [table(header, rows)] : []), ...p.notes.map((n) => `note: ${n}`)].join(
    '\n',
  );
}
