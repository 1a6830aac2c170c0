// §6.7 `GET /status/images`: every CISA status entry as flat JSON, optionally grouped by CISA or by
// registry, in kuik's shape so that scripts written against kuik keep working. The pure builder is
// separate from the route so that any function holding CISAs (the monitor lists them; the router
// has them in its watch cache) can serve it.
import type { Context, Hono } from 'hono';
import type { ClusterImageSetAvailability } from '#shared/crd/types.ts';
import { errorMessage } from '#shared/errors.ts';
import { rfc3339 } from '#shared/time.ts';
import { registryOf } from './pacing.ts';

export interface StatusItem {
  cisa: string;
  image: string;
  registry: string;
  status: string;
  unusedSince: string | null;
  lastError?: string;
  lastMonitor: string | null;
}

export type GroupBy = 'cisa' | 'registry';

export const GROUP_BY_ERROR = 'groupBy must be "cisa" or "registry"';

function utc(value: string | undefined): string | null {
  if (!value) return null;
  const t = Date.parse(value);
  return Number.isNaN(t) ? null : rfc3339(t);
}

/** Items in list order: CISAs as listed, images as stored; an image without a registry is skipped. */
export function statusItems(cisas: readonly ClusterImageSetAvailability[]): StatusItem[] {
  const out: StatusItem[] = [];
  for (const cisa of cisas) {
    for (const img of cisa.status?.images ?? []) {
      const registry = registryOf(img.image);
      if (registry === undefined) continue;
      // Key order as kuik's struct serialises it.
      out.push({
        cisa: cisa.metadata.name ?? '',
        image: img.image,
        registry,
        status: img.status,
        unusedSince: utc(img.unusedSince),
        ...(img.lastError ? { lastError: img.lastError } : {}),
        lastMonitor: utc(img.lastMonitor),
      });
    }
  }
  return out;
}

export type StatusBody =
  | { items: StatusItem[]; total: number }
  | { groupBy: GroupBy; groups: Record<string, Omit<StatusItem, GroupBy>[]>; total: number };

/** The response body for `groupBy` (undefined, `cisa` or `registry`); 400 for anything else. */
export function statusImagesBody(
  cisas: readonly ClusterImageSetAvailability[],
  groupBy: string | undefined,
): { status: 200; body: StatusBody } | { status: 400; body: { error: string } } {
  if (groupBy !== undefined && groupBy !== 'cisa' && groupBy !== 'registry') {
    return { status: 400, body: { error: GROUP_BY_ERROR } };
  }
  const items = statusItems(cisas);
  if (groupBy === undefined) return { status: 200, body: { items, total: items.length } };
  const groups: Record<string, Omit<StatusItem, GroupBy>[]> = {};
  for (const item of items) {
    const { [groupBy]: key, ...rest } = item;
    // Object.hasOwn guards a registry or CISA named like an Object.prototype member.
    if (!Object.hasOwn(groups, key)) groups[key] = [];
    groups[key]?.push(rest);
  }
  return { status: 200, body: { groupBy, groups, total: items.length } };
}

/** Mounts `GET /status/images` on `app`, listing CISAs with `list` at each request. */
export function mountStatusImages(
  app: Hono,
  list: () => Promise<readonly ClusterImageSetAvailability[]>,
): void {
  app.get('/status/images', async (c: Context) => {
    // kuik reads the parameter with Query().Get, so `?groupBy=` counts as absent.
    const groupBy = c.req.query('groupBy') || undefined;
    let cisas: readonly ClusterImageSetAvailability[];
    try {
      cisas = await list();
    } catch (err) {
      const message = errorMessage(err);
      return c.json({ error: `failed to list ClusterImageSetAvailability resources: ${message}` }, 500);
    }
    const r = statusImagesBody(cisas, groupBy);
    return c.json(r.body, r.status);
  });
}
