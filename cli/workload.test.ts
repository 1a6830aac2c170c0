import assert from 'node:assert/strict';
import { test } from 'node:test';
import { podsFromText } from './workload.ts';

const template = (image: string) => `
    template:
      metadata: {labels: {app: web}}
      spec:
        containers: [{name: app, image: ${image}}]`;

test('every workload kind gives its pod template; CronJob its job template’s', () => {
  const text = ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job']
    .map(
      (kind) =>
        `apiVersion: apps/v1\nkind: ${kind}\nmetadata: {name: w, namespace: ns}\nspec:${template(`${kind.toLowerCase()}:1`)}\n`,
    )
    .concat(
      `apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec:\n  schedule: "* * * * *"\n  jobTemplate:\n    spec:\n  ${template('cron:1').replaceAll('\n', '\n  ')}\n`,
    )
    .join('---\n');
  const { pods, skipped } = podsFromText(text, 'f.yaml');
  assert.deepEqual(skipped, []);
  assert.deepEqual(
    pods.map((p) => [
      p.label,
      p.namespace,
      p.pod.kind,
      p.pod.spec?.containers[0]?.image,
      p.pod.metadata?.labels?.['app'],
    ]),
    [
      ['Deployment/w', 'ns', 'Pod', 'deployment:1', 'web'],
      ['StatefulSet/w', 'ns', 'Pod', 'statefulset:1', 'web'],
      ['DaemonSet/w', 'ns', 'Pod', 'daemonset:1', 'web'],
      ['ReplicaSet/w', 'ns', 'Pod', 'replicaset:1', 'web'],
      ['Job/w', 'ns', 'Pod', 'job:1', 'web'],
      ['CronJob/c', undefined, 'Pod', 'cron:1', 'web'],
    ],
  );
});

test('a Pod is itself; Lists are opened; other kinds and empty documents are skipped', () => {
  const text = `apiVersion: v1
kind: Service
metadata: {name: web}
---
{"kind": "List", "items": [{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "a", "image": "nginx"}]}}]}
---
`;
  const { pods, skipped } = podsFromText(text, 'f.yaml');
  assert.deepEqual(skipped, ['Service/web']);
  assert.deepEqual(
    pods.map((p) => [p.label, p.pod.spec?.containers[0]?.image]),
    [['p', 'nginx']],
  );
});

test('invalid YAML is an error naming the file, the document and the line', () => {
  assert.throws(
    () => podsFromText('kind: Pod\n---\nkind: [Pod\n', 'bad.yaml'),
    /^Error: bad\.yaml document 2 is not valid YAML \(line \d+\)/,
  );
});
