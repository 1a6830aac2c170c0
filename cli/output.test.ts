import assert from 'node:assert/strict';
import { test } from 'node:test';
import YAML from 'yaml';
import type { Admission } from '../functions/router/decide.ts';
import { type Explained, type Preview, renderExplained, renderPreview, table } from './output.ts';

const admission: Admission = {
  mutated: {},
  notes: [],
  decisions: [
    {
      container: 'app',
      slot: 'containers',
      key: 'app',
      original: 'docker.io/library/nginx:1',
      chosen: 'mirror.example/m/library/nginx:1',
      by: 'ImageSetMirror/m',
      reason: 'OnFailure',
      rejected: [
        { image: 'docker.io/library/nginx:1', by: 'original', result: 'Unreachable', message: 'timeout' },
      ],
      alternatives: [
        { image: 'docker.io/library/nginx:1', by: 'original' },
        { image: 'mirror.example/m/library/nginx:1', by: 'ImageSetMirror/m' },
      ],
    },
  ],
};
const one: Explained = { pod: 'ns/web', admission };
const CONF = 'ConfigMap kuik-system/kuik-config key config.yaml (probe timeout 2000 ms); CAs: system';

test('-o json and -o yaml: one object for one pod (with the configuration used), a List for several', () => {
  const single = JSON.parse(renderExplained([one], 'json', CONF));
  assert.equal(single.configuration, CONF);
  assert.equal(single.pod, 'ns/web');
  assert.equal(single.decisions[0].chosen, 'mirror.example/m/library/nginx:1');
  const list = YAML.parse(renderExplained([one, { ...one, pod: 'ns/api' }], 'yaml', CONF));
  assert.equal(list.kind, 'List');
  assert.deepEqual(
    list.items.map((i: { pod: string }) => i.pod),
    ['ns/web', 'ns/api'],
  );
});

test('-o wide: one row per container with the verdict of every alternative', () => {
  const out = renderExplained(
    [one, { pod: 'ns/static', admission: { ...admission, skipped: 'static-pod' } }],
    'wide',
    CONF,
  );
  const [header, row, skipped] = out.split('\n');
  assert.match(header as string, /^POD +CONTAINER +IMAGE +ROUTED TO +ALTERNATIVES$/);
  assert.match(
    row as string,
    /^ns\/web +app +docker\.io\/library\/nginx:1 +mirror\.example\/m\/library\/nginx:1 \(OnFailure, from ImageSetMirror\/m\) +docker\.io\/library\/nginx:1=Unreachable,mirror\.example\/m\/library\/nginx:1=chosen$/,
  );
  assert.match(skipped as string, /^ns\/static +\* +not routed \(static-pod\)$/);
});

test('tables pad every column but the last', () => {
  assert.equal(table(['A', 'BB'], [['xxx', 'y']]), 'A    BB\nxxx  y');
});

test('preview: a header with the counts, one row per matching container', () => {
  const p: Preview = {
    cr: 'ImageSetMirror ns/m',
    configuration: CONF,
    scope: 'namespace ns',
    podsInScope: 3,
    matches: [
      {
        pod: 'ns/web',
        container: 'app',
        image: 'docker.io/library/nginx:1',
        decision: admission.decisions[0],
        chosenFromThisCr: true,
      },
    ],
    notes: ['n'],
  };
  const text = renderPreview(p, 'text').split('\n');
  assert.equal(
    text[0],
    'ImageSetMirror ns/m matches 1 container image(s) in 1 pod(s) (namespace ns, 3 pod(s) looked at)',
  );
  assert.match(
    text[2] as string,
    /^ns\/web +app +docker\.io\/library\/nginx:1 +mirror\.example\/m\/library\/nginx:1 \(OnFailure, from ImageSetMirror\/m\)$/,
  );
  assert.equal(text[3], 'note: n');
  assert.equal(JSON.parse(renderPreview(p, 'json')).matches[0].chosenFromThisCr, true);
});

test('tag drift the monitor recorded is shown under the pod, in text and in -o json', () => {
  const D1 = `sha256:${'1'.repeat(64)}`;
  const D2 = `sha256:${'2'.repeat(64)}`;
  const drifting: Explained = {
    ...one,
    drifts: [
      {
        container: 'app',
        image: 'docker.io/library/nginx:1',
        drift: {
          upstream: D2,
          running: [{ digest: D1, containers: 3 }],
          mirrors: [{ image: 'mirror.example/m/library/nginx:1', digest: D1 }],
          detectedAt: '2026-01-01T00:00:00Z',
          action: 'Reported',
        },
      },
    ],
  };
  const text = renderExplained([drifting], 'text', CONF);
  assert.match(
    text,
    new RegExp(
      `drift: container app: docker.io/library/nginx:1 names ${D2} upstream since 2026-01-01T00:00:00Z; running: ${D1} \\(3\\); mirrors: mirror.example/m/library/nginx:1 holds ${D1}; action: Reported`,
    ),
  );
  assert.equal(JSON.parse(renderExplained([drifting], 'json', CONF)).drifts[0].drift.upstream, D2);
  assert.doesNotMatch(renderExplained([one], 'text', CONF), /drift/);
});
