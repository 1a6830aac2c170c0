import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import * as v from 'valibot';
import { parse } from 'yaml';
import { KUIK_V2_FIELDS } from './kuik-v2-fields.ts';
import { GO_DURATION_PATTERN, isCrdDuration, MESSAGES, parseKuikObject, SCHEMAS } from './schemas.ts';
import { KINDS, type KuikKind } from './types.ts';
import { INVALID_CASES, VALID_CASES } from './validation-cases.ts';

const CRD_DIR = new URL('../../crds/', import.meta.url);
const SAMPLE_DIR = new URL('samples/', CRD_DIR);

type Json = Record<string, unknown>;
const isObject = (x: unknown): x is Json => typeof x === 'object' && x !== null && !Array.isArray(x);

function loadCrds(): Map<KuikKind, Json> {
  const out = new Map<KuikKind, Json>();
  for (const file of readdirSync(CRD_DIR).filter((f) => f.endsWith('.yaml'))) {
    const crd = parse(readFileSync(new URL(file, CRD_DIR), 'utf8')) as Json;
    const spec = crd['spec'] as { names: { kind: KuikKind; plural: string } };
    assert.equal(file, `kuik.enix.io_${spec.names.plural}.yaml`, 'one file per kind, named after the plural');
    out.set(spec.names.kind, crd);
  }
  return out;
}

function openApiSchema(crd: Json): Json {
  const versions = (crd['spec'] as { versions: Json[] }).versions;
  return (versions[0]!['schema'] as { openAPIV3Schema: Json }).openAPIV3Schema;
}

const sample = (file: string) => parse(readFileSync(new URL(file, SAMPLE_DIR), 'utf8')) as Json;
const sampleFiles = () => readdirSync(SAMPLE_DIR).filter((f) => f.endsWith('.yaml'));

const object = (kind: KuikKind, spec: unknown): Json => ({
  apiVersion: 'kuik.enix.io/v1alpha1',
  kind,
  metadata: { name: 'test' },
  spec,
});

// ---- walking both trees --------------------------------------------------------------------------
// Each tree becomes a map from a property path (`spec.mirrors[].priority`) to the facts a reader of
// the schema relies on. Facts are compared under spec and status; above them only the paths.

interface Facts {
  type?: string;
  required?: boolean;
  default?: string;
  enum?: string;
  maxLength?: number;
  maxItems?: number;
  minimum?: number;
  pattern?: string;
  format?: string;
}

function crdFacts(node: Json, required: boolean): Facts {
  const facts: Facts = { type: node['type'] as string };
  // A defaulted field is never missing when validation runs, whatever `required` says.
  facts.required = required && node['default'] === undefined;
  if (node['default'] !== undefined) facts.default = JSON.stringify(node['default']);
  if (node['enum'] !== undefined) facts.enum = (node['enum'] as string[]).join('|');
  for (const key of ['maxLength', 'maxItems', 'minimum', 'pattern', 'format'] as const) {
    if (node[key] !== undefined) (facts as Record<string, unknown>)[key] = node[key];
  }
  return facts;
}

export function walkCrd(node: Json, path = '', required = false, out = new Map<string, Facts>()) {
  if (path) out.set(path, crdFacts(node, required));
  if (path === 'metadata') return out;
  const props = (node['properties'] ?? {}) as Record<string, Json>;
  const req = new Set((node['required'] ?? []) as string[]);
  for (const [key, child] of Object.entries(props)) {
    walkCrd(child, path ? `${path}.${key}` : key, req.has(key), out);
  }
  if (isObject(node['items'])) walkCrd(node['items'], `${path}[]`, false, out);
  return out;
}

interface Node {
  type: string;
  entries?: Record<string, Node>;
  item?: Node;
  wrapped?: Node;
  default?: unknown;
  options?: readonly string[];
  pipe?: { type: string; requirement?: unknown; metadata?: Record<string, unknown> }[];
}

/** The actions of a pipe; its first item is the piped schema, which may be a pipe itself. */
function actions(schema: Node): NonNullable<Node['pipe']> {
  const [root, ...rest] = schema.pipe ?? [];
  return root ? [...actions(root as unknown as Node), ...rest] : [];
}

function valibotFacts(schema: Node, optional: boolean, dflt: unknown): Facts {
  const pipe = actions(schema);
  const has = (t: string) => pipe.find((a) => a.type === t);
  const facts: Facts = {};
  switch (schema.type) {
    case 'number':
      facts.type = has('integer') ? 'integer' : 'number';
      break;
    case 'picklist':
      facts.type = 'string';
      facts.enum = schema.options!.join('|');
      break;
    case 'literal':
      facts.type = 'string';
      break;
    case 'record':
      facts.type = 'object';
      break;
    default:
      facts.type = schema.type;
  }
  facts.required = !optional && dflt === undefined;
  if (dflt !== undefined) facts.default = JSON.stringify(dflt);
  const max = has('max_length')?.requirement as number | undefined;
  if (max !== undefined) facts[schema.type === 'array' ? 'maxItems' : 'maxLength'] = max;
  const min = has('min_value')?.requirement as number | undefined;
  if (min !== undefined) facts.minimum = min;
  const re = has('regex')?.requirement as RegExp | undefined;
  if (re) facts.pattern = re.source;
  const format = has('metadata')?.metadata?.['format'] as string | undefined;
  if (format) facts.format = format;
  return facts;
}

export function walkValibot(schema: Node, path = '', optional = false, out = new Map<string, Facts>()) {
  let node = schema;
  let dflt: unknown;
  if (node.type === 'optional') {
    optional = true;
    dflt = node.default;
    node = node.wrapped!;
  }
  if (path) out.set(path, valibotFacts(node, optional, dflt));
  if (path === 'metadata') return out;
  for (const [key, child] of Object.entries(node.entries ?? {})) {
    walkValibot(child, path ? `${path}.${key}` : key, false, out);
  }
  // An array item is never "missing", like the CRD side's items (never in `required`).
  if (node.type === 'array') walkValibot(node.item!, `${path}[]`, true, out);
  return out;
}

/** Human-readable differences between the two trees; empty when they agree. */
export function diffTrees(crd: Map<string, Facts>, valibot: Map<string, Facts>): string[] {
  const diffs: string[] = [];
  for (const path of crd.keys())
    if (!valibot.has(path)) diffs.push(`${path}: in the CRD, not in the valibot schema`);
  for (const path of valibot.keys())
    if (!crd.has(path)) diffs.push(`${path}: in the valibot schema, not in the CRD`);
  for (const [path, facts] of crd) {
    const other = valibot.get(path);
    if (!other || !/^(spec|status)\b/.test(path)) continue;
    const a = JSON.stringify(facts, Object.keys(facts).sort());
    const b = JSON.stringify(other, Object.keys(other).sort());
    if (a !== b) diffs.push(`${path}: CRD ${a} != valibot ${b}`);
  }
  return diffs;
}

const celRules = (node: unknown, out: { rule: string; message: string }[] = []) => {
  if (Array.isArray(node)) for (const x of node) celRules(x, out);
  else if (isObject(node)) {
    for (const [key, value] of Object.entries(node)) {
      if (key === 'x-kubernetes-validations') out.push(...(value as { rule: string; message: string }[]));
      else celRules(value, out);
    }
  }
  return out;
};

// ---- tests ---------------------------------------------------------------------------------------

describe('CRD YAML and valibot schemas describe the same objects', () => {
  const crds = loadCrds();

  it('has one CRD per kind with the names, scope and short names of types.ts', () => {
    assert.deepEqual([...crds.keys()].sort(), KINDS.map((k) => k.kind).sort());
    for (const info of KINDS) {
      const spec = crds.get(info.kind)!['spec'] as Json;
      const names = spec['names'] as Json;
      assert.equal(spec['group'], 'kuik.enix.io');
      assert.equal(names['plural'], info.plural);
      assert.deepEqual(names['shortNames'], [info.shortName]);
      assert.equal(spec['scope'], info.namespaced ? 'Namespaced' : 'Cluster');
    }
  });

  for (const info of KINDS) {
    it(`${info.kind}: every property path and its type, bounds and default match`, () => {
      const crdTree = walkCrd(openApiSchema(crds.get(info.kind)!));
      const valibotTree = walkValibot(SCHEMAS[info.kind] as unknown as Node);
      assert.deepEqual(diffTrees(crdTree, valibotTree), []);
    });
  }

  for (const info of KINDS) {
    it(`${info.kind}: keeps every kuik v2 field with kuik's type`, () => {
      const tree = walkCrd(openApiSchema(crds.get(info.kind)!));
      const missing = KUIK_V2_FIELDS[info.kind].filter((field) => {
        const [path, type] = field.split(':');
        return tree.get(path!)?.type !== type;
      });
      assert.deepEqual(missing, []);
    });
  }

  it('reports a property added to the CRD only', () => {
    const schema = structuredClone(openApiSchema(crds.get('ClusterReplicatedImageSet')!));
    const upstreamProps = (
      ((schema['properties'] as Json)['spec'] as Json)['properties'] as {
        upstreams: { items: { properties: Json } };
      }
    ).upstreams.items.properties;
    upstreamProps['weight'] = { type: 'integer' };
    const diffs = diffTrees(
      walkCrd(schema),
      walkValibot(SCHEMAS.ClusterReplicatedImageSet as unknown as Node),
    );
    assert.deepEqual(diffs, ['spec.upstreams[].weight: in the CRD, not in the valibot schema']);
  });

  it('reports a property added to the valibot schema only, and a changed bound', () => {
    const extended = v.object({
      ...SCHEMAS.ClusterImageSetAvailability.entries,
      status: v.optional(v.object({ imageCount: v.optional(v.number()), phase: v.optional(v.string()) })),
    });
    const diffs = diffTrees(
      walkCrd(openApiSchema(crds.get('ClusterImageSetAvailability')!)),
      walkValibot(extended as unknown as Node),
    );
    assert.ok(diffs.includes('status.phase: in the valibot schema, not in the CRD'), diffs.join('\n'));
    assert.ok(diffs.includes('status.images: in the CRD, not in the valibot schema'), diffs.join('\n'));
    assert.ok(
      diffs.some((d) => d.startsWith('status.imageCount: CRD {"required":false,"type":"integer"}')),
      diffs.join('\n'),
    );
  });

  it('uses the duration pattern of duration.ts in every duration rule', () => {
    const durationRules = [...crds.values()]
      .flatMap((crd) => celRules(crd))
      .filter((r) => r.rule.includes('duration('));
    assert.equal(
      durationRules.length,
      3,
      'spec.cleanup.retention on ISM and CISM, unusedImageExpiry on CISA',
    );
    for (const { rule } of durationRules)
      assert.ok(rule.includes(`self.matches('${GO_DURATION_PATTERN}')`), rule);
  });

  it('uses only the messages of MESSAGES, and each one somewhere', () => {
    const known = new Set<string>(Object.values(MESSAGES));
    const used = new Set([...crds.values()].flatMap((crd) => celRules(crd).map((r) => r.message)));
    assert.deepEqual(
      [...used].filter((m) => !known.has(m)),
      [],
    );
    assert.deepEqual(
      [...known].filter((m) => !used.has(m)),
      [],
    );
  });

  it('has an invalid case for every CEL message of every kind', () => {
    for (const [kind, crd] of crds) {
      for (const { message } of celRules(crd)) {
        assert.ok(
          INVALID_CASES.some((c) => c.kind === kind && c.message === message),
          `no case in validation-cases.ts makes ${kind} fail with "${message}"`,
        );
      }
    }
  });

  it("keeps kuik's Images column on ClusterImageSetAvailability and adds Ready and Age to every kind", () => {
    for (const [kind, crd] of crds) {
      const version = (crd['spec'] as { versions: Json[] }).versions[0]!;
      assert.deepEqual(version['subresources'], { status: {} });
      const columns = version['additionalPrinterColumns'] as {
        name: string;
        type: string;
        jsonPath: string;
      }[];
      if (kind === 'ClusterImageSetAvailability') {
        assert.deepEqual(columns[0], {
          name: 'Images',
          type: 'integer',
          description: 'Total number of monitored images',
          jsonPath: '.status.imageCount',
        });
      }
      const names = columns.map((c) => c.name);
      assert.ok(names.includes('Ready') && names.includes('Age'), `${kind}: ${names.join(', ')}`);
      // Every column shows a field the schema has (a typo would render an empty column forever).
      const schema = walkCrd(((version['schema'] as Json)['openAPIV3Schema'] as Json) ?? {});
      for (const c of columns) {
        if (c.jsonPath === '.metadata.creationTimestamp') {
          assert.equal(c.type, 'date');
          continue;
        }
        const path = c.jsonPath.replace(/^\./, '').replace(/\[\?\(@\.type=="Ready"\)\]/, '[]');
        const facts = schema.get(path);
        assert.ok(facts, `${kind}: column ${c.name} shows ${c.jsonPath}, which the schema lacks`);
        assert.equal(facts.type, c.type, `${kind}: column ${c.name}`);
      }
    }
  });
});

describe('samples', () => {
  for (const file of sampleFiles()) {
    it(`accepts ${file} with no warning`, () => {
      const input = sample(file);
      const result = parseKuikObject(input['kind'] as KuikKind, input, 'admission');
      assert.ok(result.ok, result.ok ? '' : result.error);
      assert.deepEqual(result.value.warnings, []);
    });
  }

  it('has at least one sample per kind', () => {
    const kinds = new Set(sampleFiles().map((f) => sample(f)['kind']));
    assert.deepEqual([...kinds].sort(), KINDS.map((k) => k.kind).sort());
  });

  it('applies the CRD defaults to the kuik v2 legacy sample', () => {
    const result = parseKuikObject('ImageSetMirror', sample('imagesetmirror-legacy-imagefilter.yaml'));
    assert.ok(result.ok);
    const mirrors = result.value.object.spec.mirrors!;
    assert.equal(mirrors[0]!.priority, 1);
    assert.deepEqual(mirrors[1]!.cleanup, { enabled: true, retention: '24h' });
    assert.equal(result.value.object.spec.cleanup, undefined, 'no cleanup block is invented');
  });

  it('turns the scaffold `spec:` with no value into the defaulted empty spec', () => {
    const result = parseKuikObject('ImageSetMirror', sample('imagesetmirror-scaffold.yaml'));
    assert.ok(result.ok);
    assert.deepEqual(result.value.object.spec, { priority: 0 });
  });

  it('defaults mirror priority, cleanup and upstream fields', () => {
    const ism = parseKuikObject(
      'ClusterImageSetMirror',
      object('ClusterImageSetMirror', {
        mirrors: [{ registry: 'r' }],
        cleanup: {},
      }),
    );
    assert.ok(ism.ok);
    assert.deepEqual(ism.value.object.spec, {
      priority: 0,
      mirrors: [{ registry: 'r', priority: 0 }],
      cleanup: { enabled: false, retention: '0s' },
    });
    const ris = parseKuikObject(
      'ReplicatedImageSet',
      object('ReplicatedImageSet', { upstreams: [{ registry: 'r', path: '' }] }),
    );
    assert.ok(ris.ok);
    assert.deepEqual(ris.value.object.spec.upstreams, [
      { registry: 'r', path: '', priority: 0, discardAlternative: false },
    ]);
    const cisa = parseKuikObject('ClusterImageSetAvailability', {
      ...object('ClusterImageSetAvailability', {}),
      status: { imageCount: 1, images: [{ image: 'docker.io/library/nginx:1.27' }] },
    });
    assert.ok(cisa.ok);
    assert.deepEqual(cisa.value.object.spec, { unusedImageExpiry: '0s' });
    assert.equal(cisa.value.object.status!.images![0]!.status, 'Scheduled');
  });
});

describe('admission rules (shared with the integration test)', () => {
  for (const c of INVALID_CASES) {
    it(c.title, () => {
      const result = parseKuikObject(c.kind, object(c.kind, c.spec), 'admission');
      assert.equal(result.ok, false, 'accepted');
      if (!result.ok) assert.ok(result.error.includes(`${c.path}: ${c.message}`), result.error);
    });
  }
  for (const c of VALID_CASES) {
    it(c.title, () => {
      const result = parseKuikObject(c.kind, object(c.kind, c.spec), 'admission');
      assert.ok(result.ok, result.ok ? '' : result.error);
    });
  }
});

describe('parseKuikObject', () => {
  it('in stored mode, keeps an object that breaks a rule and reports it as a warning', () => {
    // e.g. created under kuik v2's CRD, which did not check filter image regexes (docs/behaviour.md §3.9).
    const result = parseKuikObject(
      'ClusterImageSetMirror',
      object('ClusterImageSetMirror', { filter: { include: [{ image: '(' }] }, mirrors: [{ priority: -1 }] }),
    );
    assert.ok(result.ok);
    assert.deepEqual(result.value.warnings, [
      `spec.filter.include: ${MESSAGES.filterImageRegex}`,
      'spec.mirrors[0].priority: should be greater than or equal to 0',
    ]);
    assert.equal(result.value.object.spec.filter!.include![0]!.image, '(');
  });

  it('rejects a wrong type in either mode, naming the field', () => {
    for (const mode of ['stored', 'admission'] as const) {
      const result = parseKuikObject(
        'ReplicatedImageSet',
        object('ReplicatedImageSet', { upstreams: [{ registry: 'quay.io', path: '/x', priority: '1' }] }),
        mode,
      );
      assert.deepEqual(result, {
        ok: false,
        error: 'ReplicatedImageSet is invalid: spec.upstreams[0].priority: must be of type integer',
      });
    }
  });

  it('rejects an unknown monitor status with the supported values', () => {
    const result = parseKuikObject('ClusterImageSetAvailability', {
      ...object('ClusterImageSetAvailability', {}),
      status: { images: [{ image: 'a', status: 'Gone' }] },
    });
    assert.ok(!result.ok);
    assert.match(result.error, /status\.images\[0\]\.status: supported values: "Scheduled", "Available", /);
  });

  it('rejects a duplicate key in a map-typed status list', () => {
    const result = parseKuikObject(
      'ImageSetMirror',
      {
        ...object('ImageSetMirror', {}),
        status: {
          matchingImages: [{ image: 'docker.io/library/nginx:1' }, { image: 'docker.io/library/nginx:1' }],
        },
      },
      'admission',
    );
    assert.ok(!result.ok);
    assert.match(result.error, /status\.matchingImages: Duplicate value/);
  });

  it('accepts our status additions: platforms and digest', () => {
    const result = parseKuikObject(
      'ClusterImageSetMirror',
      {
        ...object('ClusterImageSetMirror', {}),
        status: {
          matchingImages: [
            {
              image: 'docker.io/library/nginx:1.27',
              mirrors: [
                {
                  image: 'harbor.example.com/mirror/library/nginx:1.27',
                  mirroredAt: '2026-04-21T10:00:00Z',
                  platforms: { mirrored: ['linux/amd64', 'linux/arm64/v8'], missing: ['linux/s390x'] },
                  digest: `sha256:${'a'.repeat(64)}`,
                },
              ],
            },
          ],
        },
      },
      'admission',
    );
    assert.ok(result.ok, result.ok ? '' : result.error);
  });

  it('rejects a malformed digest and timestamp in admission mode', () => {
    const result = parseKuikObject(
      'ImageSetMirror',
      {
        ...object('ImageSetMirror', {}),
        status: {
          matchingImages: [
            { image: 'a', unusedSince: 'yesterday', mirrors: [{ image: 'b', digest: 'abc' }] },
          ],
        },
      },
      'admission',
    );
    assert.ok(!result.ok);
    assert.match(result.error, /status\.matchingImages\[0\]\.unusedSince: must be an RFC 3339 date-time/);
    assert.match(result.error, /status\.matchingImages\[0\]\.mirrors\[0\]\.digest: should match/);
  });

  it('rejects an object of another kind', () => {
    const result = parseKuikObject('ClusterImageSetMirror', object('ImageSetMirror', {}));
    assert.deepEqual(result, {
      ok: false,
      error: 'ClusterImageSetMirror is invalid: kind: must be ClusterImageSetMirror',
    });
  });

  it('drops metadata fields kuik does not use and status fields of RIS', () => {
    const result = parseKuikObject('ReplicatedImageSet', {
      ...object('ReplicatedImageSet', {}),
      metadata: { name: 'a', namespace: 'b', managedFields: [{}], labels: { x: 'y' } },
      status: { anything: true },
    });
    assert.ok(result.ok);
    assert.deepEqual(result.value.object.metadata, { name: 'a', namespace: 'b', labels: { x: 'y' } });
    assert.deepEqual(result.value.object.status, {});
  });
});

describe('durations the CRDs admit', () => {
  it('are the Go durations without a minus sign', () => {
    for (const ok of [
      '0',
      '+0',
      '0s',
      '90m',
      '1h30m',
      '500ms',
      '1.5h',
      '.5s',
      '5.s',
      '10us',
      '10µs',
      '10μs',
      '2562047h',
    ]) {
      assert.equal(isCrdDuration(ok), true, ok);
    }
  });

  it('exclude negative, unitless, day-based, spaced and overflowing values', () => {
    for (const bad of [
      '-1h',
      '-0',
      '10',
      '00',
      '',
      '1d',
      '1 h',
      'h',
      '.s',
      '2562048h',
      '9223372036854775808ns',
    ]) {
      assert.equal(isCrdDuration(bad), false, bad);
    }
  });
});
