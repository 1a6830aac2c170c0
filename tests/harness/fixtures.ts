// Helpers for test files running under the harness: seed images, make namespaces, run kubectl.
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { harness, type RegistryInfo } from './env.ts';
import { run } from './proc.ts';
import { type Seeded, type SeedOptions, seedImage } from './registry.ts';

/** A short random suffix for names that must not collide between tests or runs. */
export function uniq(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** Pushes a synthetic multi-arch image (mkimage.py + skopeo) and returns its reference and digest. */
export async function seed(
  reg: RegistryInfo,
  repo: string,
  tag: string,
  opts: SeedOptions = {},
): Promise<Seeded> {
  const h = harness();
  const layoutDir = join(h.runDir, 'layouts');
  await mkdir(layoutDir, { recursive: true });
  return await seedImage(reg, repo, tag, {
    ...opts,
    layoutDir,
    mkimage: join(h.sharedDir, 'tools/mkimage.py'),
  });
}

/** kubectl of the harness's version, as cluster admin. */
export async function kubectl(args: string[], input?: string): Promise<string> {
  const h = harness();
  return await run(
    h.bins.kubectl,
    ['--kubeconfig', h.kubeconfig, ...args],
    input === undefined ? {} : { input },
  );
}

/** Creates a namespace with a unique name and returns it (namespaces never finish deleting here). */
export async function namespace(prefix = 'test'): Promise<string> {
  const name = uniq(prefix);
  await kubectl(['create', 'namespace', name]);
  return name;
}
