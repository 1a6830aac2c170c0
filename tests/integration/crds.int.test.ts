// The CRDs in crds/ against a real kube-apiserver (the harness applied them at start): what they
// serve, what they store for each sample (defaults), and what they reject, with the API server's
// own messages. The admission cases are the ones the valibot schemas are tested with
// (shared/crd/validation-cases.ts), so both layers are held to the same rules.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  ApiextensionsV1Api,
  type KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { parse } from 'yaml';
import { BOUND_MESSAGES, MESSAGES, parseKuikObject } from '#shared/crd/schemas.ts';
import { API_VERSION, KINDS, type KindInfo, type KuikKind } from '#shared/crd/types.ts';
import { INVALID_CASES, VALID_CASES } from '#shared/crd/validation-cases.ts';
import { kubeConfig } from '../harness/env.ts';
import { kubectl, namespace, patchStatus, uniq } from '../harness/fixtures.ts';

const FIELD_MANAGER = 'kuik-crds-test';
const SAMPLE_DIR = new URL('../../crds/samples/', import.meta.url);
const CRD_DIR = new URL('../../crds/', import.meta.url);

const kc = kubeConfig();
const objects = KubernetesObjectApi.makeApiClient(kc);
const crdApi = kc.makeApiClient(ApiextensionsV1Api);

type Json = Record<string, unknown>;
type KuikObject = KubernetesObject & { spec?: Json; status?: Json };

const info = (kind: KuikKind): KindInfo => KINDS.find((k) => k.kind === kind)!;

/** A unique name, and a fresh namespace for namespaced kinds, so tests share nothing. */
async function placement(kind: KuikKind, prefix: string): Promise<{ name: string; namespace?: string }> {
  const name = uniq(prefix);
  return info(kind).namespaced ? { name, namespace: await namespace('crds') } : { name };
}

async function build(kind: KuikKind, spec: unknown, prefix = 'case'): Promise<KuikObject> {
  return { apiVersion: API_VERSION, kind, metadata: await placement(kind, prefix), spec: spec as Json };
}

async function read(obj: KuikObject): Promise<KuikObject> {
  const { name, namespace } = obj.metadata!;
  return await objects.read({
    apiVersion: obj.apiVersion!,
    kind: obj.kind!,
    metadata: { name: name!, namespace },
  });
}

/** Server-side apply, as `kubectl apply --server-side` does with a user's YAML. */
async function apply(obj: KuikObject): Promise<KuikObject> {
  return await objects.patch(obj, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
}

interface Cause {
  field?: string;
  message?: string;
  reason?: string;
}
interface Rejection {
  code: number;
  message: string;
  causes: Cause[];
}

/** The Status the API server answered a failed request with. */
async function rejection(request: Promise<unknown>): Promise<Rejection> {
  try {
    await request;
  } catch (err) {
    const e = err as { code?: number; body?: unknown };
    const body = (typeof e.body === 'string' ? JSON.parse(e.body) : e.body) as {
      message: string;
      details?: { causes?: Cause[] };
    };
    return { code: e.code ?? 0, message: body.message, causes: body.details?.causes ?? [] };
  }
  assert.fail('the API server accepted it');
}

/** The cause attached to `path` whose message contains `message`, or a failure listing all causes. */
function assertCause(r: Rejection, path: string, message: string): void {
  assert.equal(r.code, 422, r.message);
  assert.ok(
    r.message.includes(message),
    `message ${JSON.stringify(r.message)} lacks ${JSON.stringify(message)}`,
  );
  assert.ok(
    r.causes.some((c) => c.field === path && c.message?.includes(message)),
    `no cause at ${path} containing ${JSON.stringify(message)}; causes: ${JSON.stringify(r.causes)}`,
  );
}

const sampleFiles = readdirSync(SAMPLE_DIR).filter((f) => f.endsWith('.yaml'));
const sample = (file: string) => parse(readFileSync(new URL(file, SAMPLE_DIR), 'utf8')) as KuikObject;

describe('the five CRDs as served', () => {
  for (const k of KINDS) {
    it(`serves ${k.kind} as ${k.plural} (${k.shortName}), ${k.namespaced ? 'namespaced' : 'cluster-scoped'}, with status`, async () => {
      const crd: V1CustomResourceDefinition = await crdApi.readCustomResourceDefinition({
        name: `${k.plural}.kuik.enix.io`,
      });
      assert.equal(crd.spec.group, 'kuik.enix.io');
      assert.equal(crd.spec.scope, k.namespaced ? 'Namespaced' : 'Cluster');
      assert.deepEqual(crd.spec.names.shortNames, [k.shortName]);
      assert.equal(crd.spec.names.kind, k.kind);
      assert.deepEqual(crd.spec.names.categories, ['kuik']);
      const [version, ...others] = crd.spec.versions;
      assert.equal(others.length, 0);
      assert.equal(version!.name, 'v1alpha1');
      assert.ok(version!.served && version!.storage);
      assert.deepEqual(version!.subresources?.status, {});
      // The columns the CRD file declares, as served (the API server builds kubectl's tables from them).
      const declared = parse(readFileSync(new URL(`kuik.enix.io_${k.plural}.yaml`, CRD_DIR), 'utf8')) as {
        spec: { versions: { additionalPrinterColumns: Json[] }[] };
      };
      const columns = (version!.additionalPrinterColumns ?? []).map((c) => ({ ...c }));
      assert.deepEqual(columns, declared.spec.versions[0]?.additionalPrinterColumns);
      assert.deepEqual(
        columns.map((c) => c.name),
        {
          ImageSetMirror: ['Images', 'Mirrored', 'Pending', 'Failing', 'Ready', 'Age', 'Reason', 'Message'],
          ClusterImageSetMirror: [
            'Images',
            'Mirrored',
            'Pending',
            'Failing',
            'Ready',
            'Age',
            'Reason',
            'Message',
          ],
          ReplicatedImageSet: ['Upstreams', 'Priority', 'Ready', 'Age', 'Reason', 'Message'],
          ClusterReplicatedImageSet: ['Upstreams', 'Priority', 'Ready', 'Age', 'Reason', 'Message'],
          // kuik's one column first, unchanged.
          ClusterImageSetAvailability: [
            'Images',
            'Available',
            'Unavailable',
            'Ready',
            'Age',
            'Reason',
            'Message',
          ],
        }[k.kind],
      );
      if (k.kind === 'ClusterImageSetAvailability') {
        assert.deepEqual(columns[0], {
          name: 'Images',
          type: 'integer',
          jsonPath: '.status.imageCount',
          description: 'Total number of monitored images',
        });
      }
      const conditions = Object.fromEntries((crd.status?.conditions ?? []).map((c) => [c.type, c.status]));
      assert.equal(conditions['Established'], 'True');
      assert.equal(conditions['NamesAccepted'], 'True');
      assert.equal(conditions['NonStructuralSchema'], undefined, 'the schema is structural');
    });
  }

  it('resolves every short name and the kuik category through discovery', async () => {
    const ns = await namespace('crds');
    for (const k of KINDS) {
      const out = await kubectl(['get', k.shortName, ...(k.namespaced ? ['-n', ns] : []), '-o', 'name']);
      assert.equal(typeof out, 'string');
    }
    const resources = await kubectl([
      'api-resources',
      '--api-group=kuik.enix.io',
      '--categories=kuik',
      '-o',
      'name',
    ]);
    assert.deepEqual(
      resources.trim().split('\n').sort(),
      KINDS.map((k) => `${k.plural}.kuik.enix.io`).sort(),
    );
  });

  it('prints the Images column of a ClusterImageSetAvailability from status.imageCount, and AGE', async () => {
    const cisa = await apply(await build('ClusterImageSetAvailability', { unusedImageExpiry: '1h' }, 'cisa'));
    const name = cisa.metadata!.name!;
    await patchStatus('cisa', name, {
      status: { imageCount: 3, images: [{ image: 'docker.io/library/nginx:1.27' }] },
    });
    const table = await kubectl(['get', 'cisa', name]);
    // kuik's IMAGES column first; AGE declared again (custom columns replace the default ones).
    assert.match(table, /^NAME\s+IMAGES\s+AVAILABLE\s+UNAVAILABLE\s+READY\s+AGE\n/);
    assert.match(table, new RegExp(`^${name}\\s+3\\s+`, 'm'));
    // The status default applies to entries written without one, as kuik relies on.
    const stored = await read(cisa);
    assert.deepEqual((stored.status as { images: Json[] }).images, [
      { image: 'docker.io/library/nginx:1.27', status: 'Scheduled' },
    ]);
    await objects.delete(cisa);
  });
});

describe('samples apply unchanged and are stored with the CRD defaults', () => {
  for (const file of sampleFiles) {
    it(`applies ${file}`, async () => {
      const obj = sample(file);
      const kind = obj.kind as KuikKind;
      obj.metadata = { ...obj.metadata, ...(await placement(kind, obj.metadata!.name!)) };
      const stored = await apply(obj);
      // The API server's defaulting and valibot's must produce the same spec.
      const expected = parseKuikObject(kind, sample(file), 'admission');
      assert.ok(expected.ok, expected.ok ? '' : expected.error);
      assert.deepEqual(stored.spec, expected.value.object.spec);
      // What the API server stores parses with no warning: the two layers agree on validity.
      // Through JSON, as a CloudEvent carries it: client-node turns metadata timestamps into Dates.
      const reparsed = parseKuikObject(kind, JSON.parse(JSON.stringify(stored)), 'admission');
      assert.ok(reparsed.ok && reparsed.value.warnings.length === 0, JSON.stringify(reparsed));
      if (!info(kind).namespaced) await objects.delete(stored);
    });
  }

  it('defaults mirror priority to 0 and cleanup to disabled with a 0s retention', async () => {
    const stored = await apply(
      await build('ClusterImageSetMirror', {
        mirrors: [{ registry: 'harbor.example.com', path: '/m' }],
        cleanup: {},
      }),
    );
    assert.deepEqual(stored.spec, {
      priority: 0,
      mirrors: [{ registry: 'harbor.example.com', path: '/m', priority: 0 }],
      cleanup: { enabled: false, retention: '0s' },
    });
    await objects.delete(stored);
  });

  it('defaults upstream priority to 0 and discardAlternative to false', async () => {
    const stored = await apply(
      await build('ReplicatedImageSet', { upstreams: [{ registry: 'quay.io', path: '' }] }),
    );
    assert.deepEqual(stored.spec, {
      priority: 0,
      upstreams: [{ registry: 'quay.io', path: '', priority: 0, discardAlternative: false }],
    });
  });

  it('defaults unusedImageExpiry to 0s, which keeps unused images forever', async () => {
    const stored = await apply(
      await build('ClusterImageSetAvailability', { filter: { include: [{ image: '.*' }] } }),
    );
    assert.equal(stored.spec!['unusedImageExpiry'], '0s');
    await objects.delete(stored);
  });

  it('stores an empty spec as the defaulted spec (kuik scaffold `spec:` with no value)', async () => {
    const obj = sample('imagesetmirror-scaffold.yaml');
    obj.metadata = { ...obj.metadata, ...(await placement('ImageSetMirror', 'scaffold')) };
    const stored = await apply(obj);
    assert.deepEqual(stored.spec, { priority: 0 });
  });

  it('keeps our status additions (platforms, digest) and rejects a malformed digest', async () => {
    const ism = await apply(
      await build('ImageSetMirror', { mirrors: [{ registry: 'harbor.example.com' }] }, 'status'),
    );
    const entry = {
      image: 'harbor.example.com/library/nginx:1.27',
      mirroredAt: '2026-04-21T10:00:00Z',
      platforms: { mirrored: ['linux/amd64', 'linux/arm64/v8'], missing: ['linux/s390x'] },
      digest: `sha256:${'0'.repeat(64)}`,
    };
    const status = { matchingImages: [{ image: 'docker.io/library/nginx:1.27', mirrors: [entry] }] };
    const ns = ['-n', ism.metadata!.namespace!];
    const patch = (s: unknown) =>
      kubectl([
        'patch',
        'ism',
        ism.metadata!.name!,
        ...ns,
        '--subresource=status',
        '--type=merge',
        '-p',
        JSON.stringify({ status: s }),
      ]);
    await patch(status);
    const stored = await read(ism);
    assert.deepEqual(stored.status, status);
    const bad = {
      matchingImages: [{ image: 'docker.io/library/nginx:1.27', mirrors: [{ ...entry, digest: 'latest' }] }],
    };
    await assert.rejects(
      patch(bad),
      /status\.matchingImages\[0\]\.mirrors\[0\]\.digest: Invalid value: "latest"/,
    );
  });
});

describe('admission: the API server rejects what the valibot schemas reject, with the same message', () => {
  for (const c of INVALID_CASES) {
    it(`${c.title} (${c.origin === 'kuik' ? 'kuik rule' : 'closed hole'})`, async () => {
      const r = await rejection(objects.create(await build(c.kind, c.spec)));
      assertCause(r, c.path, c.message);
    });
  }

  for (const c of VALID_CASES) {
    it(c.title, async () => {
      const stored = await objects.create(await build(c.kind, c.spec));
      if (!info(c.kind).namespaced) await objects.delete(stored);
    });
  }

  it('answers an invalid regex with the RE2 error and the rule message', async () => {
    const r = await rejection(
      objects.create(
        await build('ClusterImageSetMirror', { filter: { include: [{ image: 'docker\\.io/(nginx' }] } }),
      ),
    );
    assertCause(r, 'spec.filter.include', `evaluating rule: ${MESSAGES.filterImageRegex}`);
    assert.ok(r.message.includes('error parsing regexp: missing closing ): `docker\\.io/(nginx`'), r.message);
  });

  it('answers a negative mirror priority with the field, value and bound', async () => {
    const r = await rejection(
      objects.create(
        await build('ImageSetMirror', { mirrors: [{ registry: 'harbor.example.com', priority: -1 }] }),
      ),
    );
    assertCause(
      r,
      'spec.mirrors[0].priority',
      `Invalid value: -1: spec.mirrors[0].priority in body ${BOUND_MESSAGES.minimum(0)}`,
    );
  });
});

describe('ratcheting: objects stored before a rule existed stay manageable', () => {
  // kuik v2 never checked filter image regexes, so an upgraded cluster can hold a CISM with one
  // that does not compile. CEL evaluation errors are not ratcheted by the API server, so without
  // the rule's oldSelf guard even removing a finalizer from such an object would be rejected and
  // its deletion would hang. This test replays the upgrade with our CISM schema under a test group.
  it('lets an unchanged invalid filter through an update, and rejects a changed one', async () => {
    const group = `${uniq('ratchet')}.kuik.test`;
    const file = new URL('../../crds/kuik.enix.io_clusterimagesetmirrors.yaml', import.meta.url);
    // Plain JSON, not client-node's CRD model: its serializer drops the x-kubernetes-* keys.
    const crd = parse(readFileSync(file, 'utf8')) as Json & { metadata: Json; spec: Json & { names: Json } };
    crd.metadata = { name: `clusterimagesetmirrors.${group}` };
    crd.spec['group'] = group;
    crd.spec.names['shortNames'] = [];
    crd.spec.names['categories'] = [];
    // The schema kuik v2 had: no regex rule on filter items.
    const kuikV2 = structuredClone(crd);
    for (const list of filterLists(kuikV2)) {
      list['x-kubernetes-validations'] = list['x-kubernetes-validations'].filter(
        (r) => !r.rule.includes('matches'),
      );
    }
    const applyCrd = (body: unknown) =>
      kubectl(
        ['apply', '--server-side', '--force-conflicts', `--field-manager=${FIELD_MANAGER}`, '-f', '-'],
        JSON.stringify(body),
      );
    await applyCrd(kuikV2);
    try {
      await kubectl(['wait', '--for=condition=Established', '--timeout=30s', `crd/${crd.metadata['name']}`]);
      const obj: KuikObject = {
        apiVersion: `${group}/v1alpha1`,
        kind: 'ClusterImageSetMirror',
        metadata: { name: 'upgraded', finalizers: ['kuik.enix.io/mirror-cleanup'] },
        spec: { filter: { include: [{ image: '(' }] } },
      };
      await eventually(() => objects.create(obj));
      await applyCrd(crd);
      // Wait until the new schema is in force: a new object with a bad regex is rejected.
      const probe = { ...obj, metadata: { name: 'probe' } };
      await eventually(async () =>
        assertCause(await rejection(objects.create(probe)), 'spec.filter.include', MESSAGES.filterImageRegex),
      );

      const stored = await read(obj);
      const changed = { ...stored, spec: { filter: { include: [{ image: '[' }] } } };
      assertCause(
        await rejection(objects.replace(changed)),
        'spec.filter.include',
        MESSAGES.filterImageRegex,
      );
      // Removing the finalizer leaves the filter unchanged: accepted, so deletion can finish.
      await objects.replace({ ...stored, metadata: { ...stored.metadata, finalizers: [] } });
      await objects.delete(stored);
    } finally {
      await kubectl(['delete', 'crd', String(crd.metadata['name'])]);
    }
  });
});

type Rule = { rule: string; message: string };
/** The spec.filter.include and .exclude schemas of a CRD document. */
function filterLists(crd: Json): { 'x-kubernetes-validations': Rule[] }[] {
  const versions = (crd['spec'] as { versions: { schema: { openAPIV3Schema: Json } }[] }).versions;
  const props = (node: Json) => node['properties'] as Record<string, Json>;
  const filter = props(props(versions[0]!.schema.openAPIV3Schema)['spec']!)['filter']!;
  return [props(filter)['include'], props(filter)['exclude']] as { 'x-kubernetes-validations': Rule[] }[];
}

/** Retries `fn` for a few seconds: a new or changed CRD takes a moment to be served. */
async function eventually<T>(fn: () => Promise<T>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
