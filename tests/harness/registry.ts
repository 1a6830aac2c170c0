// Debian's docker-registry (distribution 2.8) on loopback with TLS, delete enabled, and either
// htpasswd or bearer-token auth, plus image seeding with skopeo from OCI layouts written by
// oci-image.ts. Usable from the harness and from a test file that needs a registry of its own (to
// stop it, say).
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RegistryInfo } from './env.ts';
import { writeOciArtifact, writeOciImage } from './oci-image.ts';
import { freePort, type Proc, run, startProc, stopProc, waitFor } from './proc.ts';
import { startTokenServer, type TokenServer } from './token-server.ts';

export const REGISTRY_USER = 'tester';
export const REGISTRY_PASSWORD = 's3cret';
/** A second identity the token server grants pull only: a pull secret, not a push credential. */
export const PULL_ONLY_USER = 'puller';
export const PULL_ONLY_PASSWORD = 'pullpass';

export interface RegistryCerts {
  caCert: string;
  servingCert: string;
  servingKey: string;
  tokenCert: string;
  tokenKey: string;
}

export interface RunningRegistry {
  info: RegistryInfo;
  proc: Proc;
  token?: TokenServer;
  stop(): Promise<void>;
  /** Starts the same registry again on the same port and data (after stop()). */
  restart(): Promise<void>;
}

export async function startRegistry(opts: {
  runDir: string;
  name: string;
  auth: 'htpasswd' | 'token';
  certs: RegistryCerts;
  registryBin?: string;
  htpasswdBin?: string;
  port?: number;
}): Promise<RunningRegistry> {
  const dir = join(opts.runDir, 'registries', opts.name);
  const dataDir = join(dir, 'data');
  const certDir = join(dir, 'certs.d');
  await mkdir(dataDir, { recursive: true });
  await mkdir(certDir, { recursive: true });
  await copyFile(opts.certs.caCert, join(certDir, 'ca.crt'));
  const port = opts.port ?? (await freePort());
  const host = `127.0.0.1:${port}`;

  let authBlock: string;
  let token: TokenServer | undefined;
  if (opts.auth === 'htpasswd') {
    const htpasswd = join(dir, 'htpasswd');
    // bcrypt is the only hash distribution accepts.
    const line = await run(opts.htpasswdBin ?? 'htpasswd', ['-Bbn', REGISTRY_USER, REGISTRY_PASSWORD]);
    await writeFile(htpasswd, line.trim() + '\n');
    authBlock = `  htpasswd:\n    realm: kuik-test\n    path: ${htpasswd}\n`;
  } else {
    token = await startTokenServer({
      certFile: opts.certs.tokenCert,
      keyFile: opts.certs.tokenKey,
      issuer: 'kuik-test-issuer',
      service: `registry-${opts.name}`,
      users: {
        [REGISTRY_USER]: { password: REGISTRY_PASSWORD, actions: ['*'] },
        [PULL_ONLY_USER]: { password: PULL_ONLY_PASSWORD, actions: ['pull'] },
      },
    });
    authBlock =
      `  token:\n    realm: ${token.url}\n    service: registry-${opts.name}\n` +
      `    issuer: kuik-test-issuer\n    rootcertbundle: ${opts.certs.tokenCert}\n`;
  }
  const config = `version: 0.1
log:
  level: warn
  accesslog: {disabled: true}
storage:
  filesystem: {rootdirectory: ${dataDir}}
  delete: {enabled: true}
  cache: {blobdescriptor: inmemory}
http:
  addr: ${host}
  secret: kuik-test-only-secret
  tls:
    certificate: ${opts.certs.servingCert}
    key: ${opts.certs.servingKey}
  debug: {addr: ""}
auth:
${authBlock}`;
  const configFile = join(dir, 'config.yml');
  await writeFile(configFile, config);

  const info: RegistryInfo = {
    host,
    username: REGISTRY_USER,
    password: REGISTRY_PASSWORD,
    caFile: opts.certs.caCert,
    certDir,
    auth: opts.auth,
    dataDir,
    ...(token ? { tokenRealm: token.url } : {}),
  };
  const ca = await readFile(opts.certs.caCert);
  const launch = async (): Promise<Proc> => {
    const proc = startProc(opts.runDir, `registry-${opts.name}`, opts.registryBin ?? 'docker-registry', [
      'serve',
      configFile,
    ]);
    // Ready when /v2/ answers at all (401 without credentials).
    await waitFor(`registry ${opts.name}`, async () => (await probeV2(host, ca)) === 401, {
      proc,
      timeoutMs: 30_000,
      intervalMs: 100,
    });
    return proc;
  };
  const reg: RunningRegistry = {
    info,
    proc: await launch(),
    ...(token ? { token } : {}),
    stop: async () => {
      await stopProc(reg.proc);
    },
    restart: async () => {
      await stopProc(reg.proc);
      reg.proc = await launch();
    },
  };
  return reg;
}

async function probeV2(host: string, ca: Buffer): Promise<number> {
  const { request } = await import('node:https');
  const [hostname, port] = host.split(':');
  return await new Promise((resolve, reject) => {
    const req = request({ hostname, port: Number(port), path: '/v2/', ca, timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

export interface SeedOptions {
  /** Architectures of the multi-arch index (default amd64 and arm64). */
  archs?: string[];
  layerMb?: number;
  layers?: number;
  /**
   * The content's seed. By default it is derived from the options, so seeds with the same options
   * give the same digest and seeds with other options share no layer; fresh: true makes new content.
   */
  seed?: string;
  fresh?: boolean;
}

export interface Seeded {
  ref: string;
  digest: string;
}

/** Writes (or reuses) an OCI layout with oci-image.ts and pushes it, every platform, with skopeo. */
export async function seedImage(
  reg: RegistryInfo,
  repo: string,
  tag: string,
  opts: SeedOptions & { layoutDir: string; skopeo?: string },
): Promise<Seeded> {
  const archs = opts.archs ?? ['amd64', 'arm64'];
  const options = `${archs.join('_')}-${opts.layerMb ?? 0.01}x${opts.layers ?? 1}`;
  const seed = opts.fresh ? randomBytes(8).toString('hex') : (opts.seed ?? options);
  const layout = join(
    opts.layoutDir,
    `${options}-${createHash('sha256').update(seed).digest('hex').slice(0, 16)}`,
  );
  if (!existsSync(join(layout, 'index.json'))) {
    const tmp = `${layout}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    await writeOciImage(tmp, {
      tag: 'v1',
      layerBytes: (opts.layerMb ?? 0.01) * 1024 * 1024,
      layers: opts.layers ?? 1,
      platforms: archs,
      seed,
    });
    // Test files seed in parallel processes: the first finished layout wins, and a layout once in
    // place is never removed (another process may be pushing from it right now).
    await rename(tmp, layout).catch(async () => rm(tmp, { recursive: true, force: true }));
  }
  const digestFile = join(opts.layoutDir, `digest-${process.pid}-${Date.now()}-${Math.random()}`);
  const ref = `${reg.host}/${repo}:${tag}`;
  await run(opts.skopeo ?? 'skopeo', [
    'copy',
    '--all',
    '--quiet',
    ...skopeoAuth('dest', reg),
    `--digestfile=${digestFile}`,
    `oci:${layout}:v1`,
    `docker://${ref}`,
  ]);
  const digest = (await readFile(digestFile, 'utf8')).trim();
  await rm(digestFile, { force: true });
  return { ref, digest };
}

/** skopeo's flags to read from (`src`) or push to (`dest`) the registry `reg`: its credentials and CA. */
export function skopeoAuth(side: 'src' | 'dest', reg: RegistryInfo): string[] {
  return [`--${side}-creds=${reg.username}:${reg.password}`, `--${side}-cert-dir=${reg.certDir}`];
}

/**
 * Pushes a non-image OCI artifact (oci-image.ts writeOciArtifact) with skopeo, which copies its
 * manifest byte for byte: the registry serves the artifact's own digest.
 */
export async function seedArtifact(
  reg: RegistryInfo,
  repo: string,
  tag: string,
  opts: { layoutDir: string; files?: Record<string, string>; artifactType?: string; skopeo?: string },
): Promise<Seeded & { artifactType: string }> {
  const layout = join(opts.layoutDir, `artifact-${randomBytes(6).toString('hex')}`);
  const a = await writeOciArtifact(layout, {
    tag: 'v1',
    ...(opts.files ? { files: opts.files } : {}),
    ...(opts.artifactType ? { artifactType: opts.artifactType } : {}),
  });
  const ref = `${reg.host}/${repo}:${tag}`;
  await run(opts.skopeo ?? 'skopeo', [
    'copy',
    '--quiet',
    ...skopeoAuth('dest', reg),
    `oci:${layout}:v1`,
    `docker://${ref}`,
  ]);
  return { ref, digest: a.manifest.digest, artifactType: a.artifactType };
}

/** The digest of a manifest as a registry serves it (sha256 of the raw bytes), via skopeo. */
export async function inspectRaw(
  reg: RegistryInfo,
  ref: string,
  skopeo = 'skopeo',
): Promise<{ raw: string; digest: string }> {
  const raw = await run(skopeo, [
    'inspect',
    '--raw',
    `--creds=${reg.username}:${reg.password}`,
    `--cert-dir=${reg.certDir}`,
    `docker://${ref}`,
  ]);
  return { raw, digest: `sha256:${createHash('sha256').update(raw).digest('hex')}` };
}

/**
 * The image manifest a copy of `ref` moves: `ref`'s own, or for an index its first platform's
 * (seeded single-platform images are an index of one).
 */
export async function imageManifest(
  reg: RegistryInfo,
  ref: string,
): Promise<{ config: { size: number }; layers: { size: number }[] }> {
  const inspect = async (r: string) =>
    JSON.parse((await inspectRaw(reg, r)).raw) as {
      manifests?: { digest: string }[];
      config: { size: number };
      layers: { size: number }[];
    };
  const top = await inspect(ref);
  const child = top.manifests?.[0]?.digest;
  return child ? await inspect(`${ref.replace(/:[^:/]+$/, '')}@${child}`) : top;
}
