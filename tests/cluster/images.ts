// Container images for the real cluster, packed here from static binaries (no image can be pulled
// from outside, and no Docker engine runs): one layer holding the binary, /etc/passwd and a /tmp,
// written as an OCI image layout that skopeo copies into the cluster's infrastructure registry.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { MEDIA } from '../harness/oci-image.ts';
import { run } from '../harness/proc.ts';

export interface BinaryImage {
  /** Repository in the infrastructure registry, e.g. `knative/serving-controller`. */
  name: string;
  tag: string;
  binary: string;
  /** Where the binary lands in the image (ko's layout for Knative's commands). */
  path: string;
  /** UID:GID the image runs as. */
  user?: string;
  env?: string[];
}

async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return `sha256:${h.digest('hex')}`;
}

/** Writes `img` as an OCI image layout in `dir` (tag = img.tag) and returns the layout's path. */
export async function packBinaryImage(img: BinaryImage, dir: string): Promise<string> {
  const stage = await mkdtemp(join(tmpdir(), 'kuik-pack-'));
  try {
    const target = join(stage, img.path);
    await mkdir(join(target, '..'), { recursive: true });
    await copyFile(img.binary, target);
    await chmod(target, 0o755);
    await mkdir(join(stage, 'etc'));
    await writeFile(
      join(stage, 'etc/passwd'),
      'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n',
    );
    await writeFile(join(stage, 'etc/group'), 'root:x:0:\nnonroot:x:65532:\n');
    await writeFile(join(stage, 'etc/nsswitch.conf'), 'hosts: files dns\n');
    await mkdir(join(stage, 'tmp'));
    await chmod(join(stage, 'tmp'), 0o1777);
    await mkdir(join(stage, 'home/nonroot'), { recursive: true });
    await mkdir(join(dir, 'blobs/sha256'), { recursive: true });
    // Reproducible tar (sorted, owner 0, epoch mtimes): the same binary gives the same digest.
    const tar = join(dir, 'layer.tar');
    await run('tar', [
      '--sort=name',
      '--owner=0',
      '--group=0',
      '--numeric-owner',
      '--mtime=@0',
      '-C',
      stage,
      '-cf',
      tar,
      '.',
    ]);
    const diffId = await sha256File(tar);
    await run('gzip', ['-1', '-n', '-f', tar]);
    const gz = `${tar}.gz`;
    const layerDigest = await sha256File(gz);
    const { size: layerSize } = await stat(gz);
    await copyFile(gz, join(dir, 'blobs/sha256', layerDigest.slice(7)));
    await rm(gz);
    const blob = async (json: unknown) => {
      const bytes = Buffer.from(JSON.stringify(json));
      const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
      await writeFile(join(dir, 'blobs/sha256', digest.slice(7)), bytes);
      return { digest, size: bytes.length };
    };
    const config = await blob({
      architecture: 'amd64',
      os: 'linux',
      config: {
        Entrypoint: [img.path],
        User: img.user ?? '65532:65532',
        Env: ['PATH=/ko-app:/usr/local/bin:/usr/bin:/bin', 'HOME=/home/nonroot', ...(img.env ?? [])],
        WorkingDir: '/',
      },
      rootfs: { type: 'layers', diff_ids: [diffId] },
      history: [{ created_by: `kuik-functions tests/cluster/images.ts: ${basename(img.binary)}` }],
    });
    const manifest = await blob({
      schemaVersion: 2,
      mediaType: MEDIA.manifest,
      config: { mediaType: MEDIA.config, ...config },
      layers: [{ mediaType: MEDIA.layer, digest: layerDigest, size: layerSize }],
    });
    await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    await writeFile(
      join(dir, 'index.json'),
      JSON.stringify({
        schemaVersion: 2,
        manifests: [
          {
            mediaType: MEDIA.manifest,
            ...manifest,
            annotations: { 'org.opencontainers.image.ref.name': img.tag },
          },
        ],
      }),
    );
    return dir;
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
}

/**
 * Packs and pushes each image the registry (reached at `pushHost`, plain HTTP) does not hold yet.
 * `storage` is the registry's data directory: a tag's link file there says it holds the image.
 */
export async function pushBinaryImages(
  images: BinaryImage[],
  pushHost: string,
  storage: string,
): Promise<string[]> {
  const pushed: string[] = [];
  // One at a time: gzip of a 100+ MB binary is CPU-bound, and two cores are all there is.
  for (const img of images) {
    const link = join(
      storage,
      'docker/registry/v2/repositories',
      img.name,
      '_manifests/tags',
      img.tag,
      'current/link',
    );
    if (existsSync(link)) continue;
    const dir = await mkdtemp(join(tmpdir(), 'kuik-image-'));
    try {
      await packBinaryImage(img, dir);
      await run('skopeo', [
        'copy',
        '--quiet',
        '--dest-tls-verify=false',
        `oci:${dir}:${img.tag}`,
        `docker://${pushHost}/${img.name}:${img.tag}`,
      ]);
      pushed.push(`${img.name}:${img.tag}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  return pushed;
}
