import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { repoRoot } from '../tests/harness/tools.ts';
import { metricsDoc } from './metrics-doc.ts';

test('docs/metrics.md lists exactly the metrics the code defines (regenerate: node scripts/metrics-doc.ts > docs/metrics.md)', () => {
  assert.equal(readFileSync(`${repoRoot}/docs/metrics.md`, 'utf8'), metricsDoc());
});

test('every query of the Grafana dashboard uses metrics the code defines', () => {
  const dash = JSON.parse(readFileSync(`${repoRoot}/docs/grafana-dashboard.json`, 'utf8')) as {
    panels: { title: string; targets: { expr: string }[] }[];
  };
  const doc = metricsDoc();
  const defined = new Set([...doc.matchAll(/`(kube_image_keeper_[a-z_]+)`/g)].map((m) => m[1]));
  assert.ok(dash.panels.length >= 10);
  for (const p of dash.panels) {
    for (const t of p.targets) {
      const used = [...t.expr.matchAll(/kube_image_keeper_[a-z_]+/g)].map((m) =>
        m[0].replace(/_(bucket|sum|count)$/, ''),
      );
      assert.ok(used.length > 0, p.title);
      for (const m of used) assert.ok(defined.has(m), `${p.title}: ${m} is not defined by any function`);
    }
  }
});
