// kuik-functions on a real cluster (kubelet + containerd, Knative Serving and Eventing), installed
// with `kubectl apply -k` of manifests/ with only the image and the test's settings overridden.
// The scenarios run in order on one installation; each asserts the end state it names.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { COPY_EVENT_TYPE } from '#shared/copy-request.ts';
import { errorMessage } from '#shared/errors.ts';
import { type ClusterStack, startClusterStack } from '../../scripts/cluster-stack.ts';
import { run } from '../harness/proc.ts';
import type { RunningPrometheus } from '../harness/prometheus.ts';
import { NET } from './host.ts';
import { KUIK_NS } from './kuik.ts';
import { INFRA_REGISTRY } from './node.ts';
import { startClusterPrometheus } from './prometheus.ts';
import type { NsRegistry } from './registries.ts';
import {
  applyYaml,
  deploymentYaml,
  digestOf,
  eventually,
  imageSetMirrorYaml,
  imageVolumePodYaml,
  jsonpath,
  MIRROR_PORT,
  podsOf,
  pullSecret,
  pushFileImage,
  pushRunnable,
  pushSynthetic,
  runPod,
  UPSTREAM_PORT,
  waitMirrored,
} from './scenario.ts';
import type { Cluster } from './start.ts';

const NS = 'e2e';
let stack: ClusterStack;
const APP = 'demo/app';
let c: Cluster;
let upstream: NsRegistry;
let mirror: NsRegistry;
let prom: RunningPrometheus | undefined;
const up = () => `${NET.nodeIp}:${UPSTREAM_PORT}`;
// This file's ImageSetMirror mirrors under e2e/ (the walk-through's under mirror/).
const mirrored = (repo: string, tag: string) => `${NET.nodeIp}:${MIRROR_PORT}/e2e/${repo}:${tag}`;

const deployment = (name: string, image: string) => deploymentYaml(NS, name, image);

describe('kuik-functions on a real Knative cluster, installed with kubectl apply -k', {
  timeout: 3_600_000,
}, () => {
  before(async () => {
    // Exactly what `npm start -- --cluster` starts: the cluster, both registries, demo/app:v1
    // upstream, kuik-functions installed with `kubectl apply -k` of the test overlay.
    const t0 = Date.now();
    stack = await startClusterStack();
    ({ cluster: c, upstream, mirror } = stack);
    console.log(`cluster: ready with kuik-functions in ${Date.now() - t0} ms (${JSON.stringify(c.timings)})`);
    await c.k('create', 'namespace', NS);
    await pullSecret(c, NS, 'upstream-pull', upstream);
    await pullSecret(c, NS, 'mirror-cred', mirror);
    // From the start, as an operator's would be: it sees the router pods the scenarios replace.
    prom = await startClusterPrometheus(c, KUIK_NS);
  });
  after(async () => {
    await prom?.stop();
    await stack?.stop();
  });

  test('the walk-through `npm start -- --cluster` prints runs as printed', () => {
    const r = spawnSync('bash', ['-e', '-c', stack.walkthrough], { encoding: 'utf8', timeout: 900_000 });
    // Whatever happened, the upstream answers again for the scenarios below.
    process.kill(upstream.proc.child.pid!, 'SIGCONT');
    assert.equal(r.status, 0, `walk-through failed:\n${r.stdout}\n${r.stderr}`);
    // It ends with the pods' images and phases: the rollout with the upstream stopped ran from
    // the mirror (an old pod may still be listed while it terminates).
    assert.ok(
      r.stdout.split('\n').includes(`${NET.nodeIp}:${MIRROR_PORT}/mirror/${APP}:v1 Running`),
      `a pod runs from the mirror:\n${r.stdout}`,
    );
  });

  test('with its upstream up, a Deployment runs from the upstream: pods are not rewritten', async () => {
    await applyYaml(c, deployment('app-up', `${up()}/${APP}:v1`));
    await c.k('-n', NS, 'rollout', 'status', 'deployment/app-up', '--timeout=300s');
    const images = await jsonpath(
      c,
      ['-n', NS, 'get', 'pods', '-l', 'app=app-up'],
      '{.items[*].spec.containers[0].image}',
    );
    assert.deepEqual(images.split(' '), [`${up()}/${APP}:v1`, `${up()}/${APP}:v1`]);
    const phases = await jsonpath(
      c,
      ['-n', NS, 'get', 'pods', '-l', 'app=app-up'],
      '{.items[*].status.phase}',
    );
    assert.deepEqual(phases.split(' '), ['Running', 'Running']);
  });

  test('an ImageSetMirror for an image a running pod uses: the ApiServerSource wakes reconcile, a copy Job runs through the JobSink, the mirror holds the upstream digest', async () => {
    const jobNames = async () =>
      new Set((await c.k('-n', KUIK_NS, 'get', 'jobs', '-o', 'name')).split('\n').filter(Boolean));
    const before = await jobNames();
    await applyYaml(c, imageSetMirrorYaml(NS, 'demo', 'e2e'));
    await waitMirrored(c, NS, 'demo');
    // The copy writes status before its pod exits: the Job's own count follows.
    let seen = '';
    await eventually('a new copy Job of the JobSink succeeded', async () => {
      const jobs = JSON.parse(await c.k('-n', KUIK_NS, 'get', 'jobs', '-o', 'json')) as {
        items: { metadata: { name: string }; status: { succeeded?: number } }[];
      };
      const fresh = jobs.items.filter((j) => !before.has(`job.batch/${j.metadata.name}`));
      seen = fresh.map((j) => `${j.metadata.name} ${JSON.stringify(j.status)}`).join('; ');
      return fresh.some((j) => (j.status.succeeded ?? 0) >= 1);
    }).catch((err) => {
      throw new Error(`${errorMessage(err)}; new Jobs: ${seen}`);
    });
    const want = await digestOf(c, upstream, APP, 'v1');
    assert.equal(await digestOf(c, mirror, `e2e/${APP}`, 'v1'), want);
    const status = await jsonpath(c, ['-n', NS, 'get', 'ism', 'demo'], '{.status.matchingImages[0]}');
    assert.match(status, new RegExp(want.replace(':', ':')), `status names the upstream's digest: ${status}`);
  });

  test('with its upstream stopped, a Deployment rolls out from the mirror: pods rewritten, pulled with the copied pull secret, Running', async () => {
    await upstream.stop();
    try {
      await applyYaml(c, deployment('app-down', `${up()}/${APP}:v1`));
      await c.k('-n', NS, 'rollout', 'status', 'deployment/app-down', '--timeout=300s');
      const pods = JSON.parse(await c.k('-n', NS, 'get', 'pods', '-l', 'app=app-down', '-o', 'json')) as {
        items: {
          spec: { containers: { image: string }[]; imagePullSecrets?: { name: string }[] };
          status: { phase: string; containerStatuses: { imageID: string; ready: boolean }[] };
          metadata: { annotations?: Record<string, string> };
        }[];
      };
      assert.equal(pods.items.length, 2);
      for (const p of pods.items) {
        assert.equal(p.spec.containers[0]!.image, mirrored(APP, 'v1'));
        assert.equal(p.status.phase, 'Running');
        assert.ok(p.status.containerStatuses[0]!.ready);
        // The kubelet pulled it from the mirror, which needs credentials: the pod lists a pull
        // secret besides its own, the router's copy of the mirror's credential.
        const secrets = (p.spec.imagePullSecrets ?? []).map((s) => s.name);
        assert.ok(secrets.length >= 2, `pull secrets: ${secrets.join(',')}`);
        assert.ok(
          p.metadata.annotations?.['kuik.enix.io/rewritten-by'],
          'the router says it rewrote the pod',
        );
      }
    } finally {
      await upstream.start();
    }
  });

  test('an image volume: mirrored while a pod mounts it; with its upstream stopped, a new pod mounts it from the mirror and reads its file', async () => {
    // containerd 2 mounts image volumes (Debian's 1.6 could not). The volume's image holds one
    // file with content of this run; the container prints it, so the pod's log is the volume.
    const VOL = 'demo/volume';
    const FILE = '/kuik/volume.txt';
    const content = `kuik image volume ${randomUUID()}\n`;
    const pause = c.tools.images['pause']!;
    const pod = (name: string) =>
      imageVolumePodYaml(NS, name, `${INFRA_REGISTRY}/${pause.name}:${pause.tag}`, `${up()}/${VOL}:v1`, FILE);
    const reads = async (name: string) => {
      let log = '';
      await eventually(`pod ${name} printed the volume's file`, async () => {
        log = await c.k('-n', NS, 'logs', name).catch(() => '');
        return log.includes(content.trim());
      }).catch((err) => {
        const phase = spawnSync(
          c.kubectl,
          ['--kubeconfig', c.kubeconfig, '-n', NS, 'describe', 'pod', name],
          {
            encoding: 'utf8',
          },
        ).stdout;
        throw new Error(`${errorMessage(err)}; log: ${log}; pod:\n${phase}`);
      });
    };
    await pushFileImage(c, upstream, VOL, 'v1', FILE, content);

    // With the upstream up: the pod mounts the upstream's image, and reconcile mirrors it as an
    // image in use (ImageSetMirror demo selects the upstream).
    await applyYaml(c, pod('vol-up'));
    await reads('vol-up');
    assert.equal(
      await jsonpath(c, ['-n', NS, 'get', 'pod', 'vol-up'], '{.spec.volumes[0].image.reference}'),
      `${up()}/${VOL}:v1`,
    );
    await waitMirrored(c, NS, 'demo', `${up()}/${VOL}:v1`, `${VOL} mirrored`);
    assert.equal(await digestOf(c, mirror, `e2e/${VOL}`, 'v1'), await digestOf(c, upstream, VOL, 'v1'));

    await upstream.stop();
    try {
      await applyYaml(c, pod('vol-down'));
      // Admission rewrote the volume (the upstream fails its probe), and the kubelet pulled the
      // mirror's reference, which no pod on the node had used: the file comes from the mirror.
      const got = JSON.parse(await c.k('-n', NS, 'get', 'pod', 'vol-down', '-o', 'json')) as {
        spec: { volumes: { name: string; image?: { reference: string } }[] };
        metadata: { annotations?: Record<string, string> };
      };
      assert.equal(got.spec.volumes.find((v) => v.name === 'data')?.image?.reference, mirrored(VOL, 'v1'));
      const originals = JSON.parse(
        got.metadata.annotations?.['kuik.enix.io/original-images'] ?? '{}',
      ) as Record<string, string>;
      assert.equal(originals['volume:data'], `${up()}/${VOL}:v1`);
      await reads('vol-down');
      assert.equal(await jsonpath(c, ['-n', NS, 'get', 'pod', 'vol-down'], '{.status.phase}'), 'Running');
    } finally {
      await upstream.start();
    }
  });

  test("the PingSource ticks the monitor's Knative Service and the ClusterImageSetAvailability's status is written", async () => {
    await applyYaml(
      c,
      `apiVersion: kuik.enix.io/v1alpha1
kind: ClusterImageSetAvailability
metadata: {name: demo}
spec:
  filter: {include: [{image: '${up().replace(/\./g, '\\.')}/.*'}]}
`,
    );
    await eventually(
      'cisa/demo Available',
      async () => (await jsonpath(c, ['get', 'cisa', 'demo'], '{.status.images[0].status}')) === 'Available',
    );
  });

  test("senders are checked (Knative's OIDC identity): a forged event without a token, or with another namespace's token, is refused by reconcile and by the JobSink; nothing runs", async () => {
    // Everything above went through with tokens: the ApiServerSource's to reconcile, the
    // PingSource's to the monitor, reconcile's to the JobSink. Here, what anyone in the cluster
    // could send instead. From the node, through the same Services the sources use.
    const event = (type: string, data: object) => [
      ...['-H', 'content-type: application/json', '-H', 'ce-specversion: 1.0', '-H', 'ce-id: forged-1'],
      ...['-H', 'ce-source: forged', '-H', `ce-type: ${type}`, '--data', JSON.stringify(data)],
    ];
    const clusterIp = async (ns: string, name: string) =>
      jsonpath(c, ['-n', ns, 'get', 'svc', name], '{.spec.clusterIP}');
    const post = async (url: string, args: string[]) => {
      const out = await run(
        ...c.ns('curl', ['-sS', '--max-time', '120', '-w', '\\n%{http_code}', ...args, url]),
      );
      const lines = out.trimEnd().split('\n');
      return { status: Number(lines.pop()), body: lines.join('\n') };
    };
    // reconcile's Knative Service, as its cluster-local name resolves (an ExternalName to the
    // networking layer's private Service).
    const ext = await jsonpath(c, ['-n', KUIK_NS, 'get', 'svc', 'kuik-reconcile'], '{.spec.externalName}');
    const [svc, svcNs] = ext.split('.') as [string, string];
    const reconcileUrl = `http://${await clusterIp(svcNs, svc)}/`;
    const host = ['-H', `host: kuik-reconcile.${KUIK_NS}.svc.cluster.local`];
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x', namespace: NS } };
    const bare = await post(reconcileUrl, [...host, ...event('dev.knative.apiserver.resource.add', pod)]);
    assert.equal(bare.status, 401, bare.body);
    assert.match(bare.body, /no bearer token/);
    // A token for the right audience, but minted by someone else's ServiceAccount.
    const token = (await c.k('-n', NS, 'create', 'token', 'default', '--audience', 'kuik-reconcile')).trim();
    const other = await post(reconcileUrl, [
      ...host,
      ...['-H', `authorization: Bearer ${token}`],
      ...event('dev.knative.apiserver.resource.add', pod),
    ]);
    assert.equal(other.status, 401, other.body);
    assert.match(other.body, new RegExp(`sender system:serviceaccount:${NS}:default is not allowed`));
    // The JobSink: a forged copy request is refused before any Job exists.
    const jobsBefore = await jsonpath(c, ['-n', KUIK_NS, 'get', 'jobs'], '{.items[*].metadata.name}');
    const sinkUrl = `http://${await clusterIp('knative-eventing', 'job-sink')}/${KUIK_NS}/kuik-copy`;
    const copy = await post(sinkUrl, event(COPY_EVENT_TYPE, { image: 'forged' }));
    assert.equal(copy.status, 401, copy.body);
    assert.equal(await jsonpath(c, ['-n', KUIK_NS, 'get', 'jobs'], '{.items[*].metadata.name}'), jobsBefore);
  });

  test('after the idle window reconcile and monitor are at zero pods; the next event scales reconcile up and is handled', async () => {
    const sel = (svc: string) => `serving.knative.dev/service=${svc}`;
    await eventually(
      'reconcile at zero pods',
      async () => (await podsOf(c, KUIK_NS, sel('kuik-reconcile'))) === 0,
    );
    // The monitor is ticked every minute; between ticks it goes back to zero.
    await eventually(
      'monitor at zero pods',
      async () => (await podsOf(c, KUIK_NS, sel('kuik-monitor'))) === 0,
    );
    await pushRunnable(c, upstream, 'demo/other', 'v1');
    await applyYaml(c, deployment('other', `${up()}/demo/other:v1`));
    await waitMirrored(c, NS, 'demo', `${up()}/demo/other:v1`, 'demo/other mirrored');
  });

  test("the router's pods killed: pods are still admitted (failurePolicy Ignore), and routed again once it is back", async () => {
    await upstream.stop();
    try {
      await c.k('-n', KUIK_NS, 'scale', 'deployment/kuik-router', '--replicas=0');
      await eventually(
        'no router pod',
        async () => (await podsOf(c, KUIK_NS, 'app.kubernetes.io/component=router')) === 0,
      );
      await c.k('-n', NS, 'run', 'unrouted', `--image=${up()}/${APP}:v1`);
      assert.equal(
        await jsonpath(c, ['-n', NS, 'get', 'pod', 'unrouted'], '{.spec.containers[0].image}'),
        `${up()}/${APP}:v1`,
      );
      await c.k('-n', KUIK_NS, 'scale', 'deployment/kuik-router', '--replicas=2');
      await c.k('-n', KUIK_NS, 'rollout', 'status', 'deployment/kuik-router', '--timeout=300s');
      // "Back" is when the apiserver reaches it again: rollout status only says the pods are Ready;
      // the Service's EndpointSlice and kube-proxy's rules follow a moment later, and until then the
      // webhook call fails and is ignored, as it should be. A server-side dry run goes through the
      // webhook without leaving a pod behind.
      await eventually(
        'the webhook reaches the router again',
        async () =>
          (await c.k(
            ...['-n', NS, 'run', 'probe', `--image=${up()}/${APP}:v1`, '--dry-run=server'],
            ...['-o', 'jsonpath={.spec.containers[0].image}'],
          )) === mirrored(APP, 'v1'),
        120_000,
      );
      await c.k('-n', NS, 'run', 'routed', `--image=${up()}/${APP}:v1`);
      assert.equal(
        await jsonpath(c, ['-n', NS, 'get', 'pod', 'routed'], '{.spec.containers[0].image}'),
        mirrored(APP, 'v1'),
      );
    } finally {
      await upstream.start();
    }
  });

  test('a copy Job killed mid-layer is retried by the Job controller and resumes', async () => {
    // 96 MiB through a 40 Mbit/s link to the pods (tc on the pods' bridge, inside the cluster's
    // namespace): 20 s of copy or more, with upload sessions recorded every 8 MiB (the overlay's
    // KUIK_COPY_RECORD_EVERY_MIB), so the kill lands mid-layer with sessions to resume.
    const big = 'demo/big';
    await pushSynthetic(c, upstream, big, 'v1', 96 * 1024 * 1024);
    await run(
      ...c.ns('tc', [
        'qdisc',
        'add',
        'dev',
        'cni0',
        'root',
        'tbf',
        'rate',
        '40mbit',
        'burst',
        '64kb',
        'latency',
        '400ms',
      ]),
    );
    try {
      // A pod that uses the image (it cannot start: the image has no entrypoint, and that is fine).
      await runPod(c, NS, 'big', `${up()}/${big}:v1`);
      const uploads = async () =>
        (await jsonpath(
          c,
          ['-n', NS, 'get', 'ism', 'demo'],
          `{.status.matchingImages[?(@.image=="${up()}/${big}:v1")].mirrors[0].uploads}`,
        )) !== '';
      await eventually('upload sessions recorded in status mid-copy', uploads);
      const copyPods = (
        await c.k(
          '-n',
          KUIK_NS,
          'get',
          'pods',
          '-l',
          'app.kubernetes.io/component=copy',
          '--field-selector=status.phase=Running',
          '-o',
          'name',
        )
      )
        .split('\n')
        .filter(Boolean);
      assert.ok(copyPods.length >= 1, 'a copy pod is running');
      await c.k('-n', KUIK_NS, 'delete', ...copyPods, '--wait=false');
    } finally {
      await run(...c.ns('tc', ['qdisc', 'del', 'dev', 'cni0', 'root'])).catch(() => '');
    }
    await waitMirrored(c, NS, 'demo', `${up()}/${big}:v1`, 'demo/big mirrored');
    assert.equal(await digestOf(c, mirror, `e2e/${big}`, 'v1'), await digestOf(c, upstream, big, 'v1'));
    // The Job controller retried (a failed pod, then a succeeded one), and the retry resumed.
    const logs = await c.k(
      '-n',
      KUIK_NS,
      'logs',
      '-l',
      'app.kubernetes.io/component=copy',
      '--tail=-1',
      '--prefix',
      '--max-log-requests=50',
    );
    const done = logs
      .split('\n')
      .filter((l) => l.includes(`${big}:v1`) && l.includes('"bytes_resumed"'))
      .map((l) => JSON.parse(l.slice(l.indexOf('{'))) as { bytes_resumed: number; outcome: string });
    assert.ok(
      done.some((d) => d.bytes_resumed > 0),
      `a copy of ${big} resumed recorded uploads: ${JSON.stringify(done)}`,
    );
  });

  test("the functions' counts reach Prometheus through the router: copy Jobs that exited, reconcile and monitor pods that scaled to zero", async () => {
    const p = prom!;
    // What the copy Jobs did, from their pods' own logs (the JobSink keeps its Jobs an hour): one
    // `copy mirrored` line per image mirrored. The pod killed mid-copy above went with its log, and
    // it mirrored nothing; its retry did.
    const logs = await c.k(
      ...['-n', KUIK_NS, 'logs', '-l', 'app.kubernetes.io/component=copy'],
      ...['--tail=-1', '--prefix', '--max-log-requests=50'],
    );
    const lines = logs.split('\n');
    const mirroredByJobs = lines.filter((l) => l.includes('"msg":"copy mirrored"')).length;
    // demo/app (twice: the walk-through's mirror and this file's), the image volume, demo/other, demo/big.
    assert.ok(mirroredByJobs >= 4, `copy Jobs logged ${mirroredByJobs} mirrored copies`);
    // Each router pod's series at its highest, summed: the pods scaled away above took their
    // pushed counters with them, after one last scrape of what no scrape had shown yet (a copy
    // counted just before, a series still held at 0), and Prometheus keeps what it scraped.
    const total = async (series: string) =>
      (await p.query(`sum(max_over_time(${series}[2h]))`))[0]?.value ?? 0;
    let seen = 0;
    await eventually(
      `Prometheus counts ${mirroredByJobs} mirrored copies`,
      async () => {
        seen = await total('kube_image_keeper_copies_total{function="copy",result="mirrored"}');
        return seen === mirroredByJobs;
      },
      300_000,
    ).catch(async (err) => {
      // What a reader needs to tell where the counts went: each router pod's series and the
      // pushes it accepted, and what the copy pods said about their pushes.
      const perPod = async (q: string) =>
        JSON.stringify(await p.query(`max_over_time(${q}[2h])`).catch((e) => errorMessage(e)));
      throw new Error(
        [
          `${errorMessage(err)}: Prometheus has ${seen}`,
          `copies per router pod: ${await perPod('kube_image_keeper_copies_total{function="copy"}')}`,
          `pushes per router pod: ${await perPod('kube_image_keeper_router_metric_pushes_total')}`,
          'copy pods on mirroring and pushing:',
          ...lines.filter((l) => /metrics push|copy mirrored|copy job done/.test(l)),
        ].join('\n'),
      );
    });
    assert.ok((await total('kube_image_keeper_reconcile_events_total{function="reconcile"}')) > 0);
    assert.ok((await total('kube_image_keeper_monitor_ticks_total{function="monitor"}')) > 0);
    // What it scrapes is what the manifests' annotations describe: the router's pods, all up.
    const targets = await p.targets();
    assert.ok(targets.length >= 2, JSON.stringify(targets));
    for (const t of targets) {
      assert.match(t.labels['pod'] ?? '', /^kuik-router-/);
      assert.equal(t.health, 'up', JSON.stringify(t));
    }
    // For docs/performance.md: one scrape of a router pod on the real node, as Prometheus timed it.
    console.log(
      `router scrape durations (ms): ${targets.map((t) => (t.lastScrapeDuration * 1000).toFixed(1)).join(' ')}; copies mirrored ${mirroredByJobs}`,
    );
  });
});
