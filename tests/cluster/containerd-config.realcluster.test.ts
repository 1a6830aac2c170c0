// The node's containerd configuration, read by the containerd the real cluster runs: a key TOML
// places in the wrong table is ignored without a word, so each setting the node needs is checked
// where containerd itself (`config dump`, after its own migration) says it landed. It runs the
// containerd tests/cluster/build.sh builds, so it is in the real-cluster phase, after that build.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { run } from '../harness/proc.ts';
import { containerdConfig } from './node.ts';
import { clusterTools } from './tools.ts';

/** `config dump`'s lines by table: `[plugins.'x'.y]` → its `key = value` lines. */
function tables(dump: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current = '';
  out.set(current, []);
  for (const raw of dump.split('\n')) {
    const line = raw.trim();
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = header[1]!;
      out.set(current, []);
    } else if (line !== '') out.get(current)!.push(line);
  }
  return out;
}

test("containerd 2 reads every setting of the node's configuration where its CRI plugins look", async () => {
  const bins = clusterTools(false).containerd;
  const dir = await mkdtemp(join(tmpdir(), 'kuik-containerd-config-'));
  try {
    const config = join(dir, 'config.toml');
    await writeFile(config, containerdConfig(dir, 'reg.test/kuik/pause:2', bins.shim));
    const t = tables(await run(bins.containerd, ['--config', config, 'config', 'dump']));
    const has = (table: string, line: string) =>
      assert.ok(t.get(table)?.includes(line), `[${table}] has ${line}: ${JSON.stringify(t.get(table))}`);
    has('', `root = '${dir}/root'`);
    has('', `state = '${dir}/state'`);
    const images = "plugins.'io.containerd.cri.v1.images'";
    has(images, "snapshotter = 'overlayfs'");
    has(`${images}.pinned_images`, "sandbox = 'reg.test/kuik/pause:2'");
    has(`${images}.registry`, `config_path = '${dir}/certs.d'`);
    const runtime = "plugins.'io.containerd.cri.v1.runtime'";
    has(runtime, 'restrict_oom_score_adj = true');
    has(runtime, 'netns_mounts_under_state_dir = true');
    has(runtime, `cdi_spec_dirs = ['${dir}/cdi']`);
    has(`${runtime}.containerd.runtimes.runc`, `runtime_path = '${bins.shim}'`);
    has(`${runtime}.containerd.runtimes.runc.options`, 'SystemdCgroup = false');
    has(`${runtime}.cni`, "bin_dirs = ['/usr/lib/cni']");
    has(`${runtime}.cni`, `conf_dir = '${dir}/cni'`);
    has("plugins.'io.containerd.server.v1.grpc'", `address = '${dir}/containerd.sock'`);
    const disabled = t.get('')!.find((l) => l.startsWith('disabled_plugins'));
    assert.match(disabled ?? '', /'io\.containerd\.internal\.v1\.opt'/);
    assert.match(disabled ?? '', /'io\.containerd\.nri\.v1\.nri'/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
