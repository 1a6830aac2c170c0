import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  apiHost,
  atDigest,
  blobPath,
  formatRef,
  InvalidReferenceError,
  manifestPath,
  referrersPath,
  tagsPath,
  toManifestRef,
  uploadPath,
} from './reference.ts';

const D = `sha256:${'a'.repeat(64)}`;

test('a tagged reference becomes registry, repository and tag', () => {
  assert.deepEqual(toManifestRef('quay.io/prometheus/node-exporter:v1.8.0'), {
    registry: 'quay.io',
    repository: 'prometheus/node-exporter',
    tag: 'v1.8.0',
  });
  assert.equal(manifestPath(toManifestRef('127.0.0.1:5000/a/b:v1')), '/v2/a/b/manifests/v1');
});

test('a tag-less reference is fetched as latest, as go-containerregistry does', () => {
  const r = toManifestRef('docker.io/library/nginx');
  assert.equal(manifestPath(r), '/v2/library/nginx/manifests/latest');
  assert.equal(formatRef(r), 'docker.io/library/nginx:latest');
});

test('unnormalized input goes through the shared parser: nginx is docker.io/library/nginx', () => {
  assert.deepEqual(toManifestRef('nginx:1.27'), {
    registry: 'docker.io',
    repository: 'library/nginx',
    tag: '1.27',
  });
});

test('digest references are fetched by digest, also when they carry a tag', () => {
  assert.equal(manifestPath(toManifestRef(`reg.example:5000/app@${D}`)), `/v2/app/manifests/${D}`);
  const both = toManifestRef(`reg.example:5000/app:v1@${D}`);
  assert.equal(manifestPath(both), `/v2/app/manifests/${D}`);
  assert.equal(formatRef(both), `reg.example:5000/app:v1@${D}`);
});

test('atDigest drops the tag: the resolveDigest probe asks for the repository at that digest', () => {
  const r = atDigest(toManifestRef('reg.example/app:v1'), D);
  assert.equal(formatRef(r), `reg.example/app@${D}`);
});

test('an invalid reference is a typed error with the parser wording', () => {
  assert.throws(() => toManifestRef('Nginx:1'), InvalidReferenceError);
  assert.throws(() => toManifestRef(''), /invalid reference/);
});

test('docker.io is a name; connections go to registry-1.docker.io', () => {
  assert.equal(apiHost('docker.io'), 'registry-1.docker.io');
  assert.equal(apiHost('index.docker.io'), 'registry-1.docker.io');
  assert.equal(apiHost('127.0.0.1:5000'), '127.0.0.1:5000');
});

test('blob and upload paths, with a cross-repository mount', () => {
  const repo = { registry: 'r', repository: 'team/app' };
  assert.equal(blobPath(repo, D), `/v2/team/app/blobs/${D}`);
  assert.equal(uploadPath(repo), '/v2/team/app/blobs/uploads/');
  assert.equal(
    uploadPath(repo, { digest: D, from: 'other/app' }),
    `/v2/team/app/blobs/uploads/?mount=sha256%3A${'a'.repeat(64)}&from=other%2Fapp`,
  );
});

test('tag list and referrers paths of a repository', () => {
  const repo = { registry: 'r', repository: 'team/app' };
  assert.equal(tagsPath(repo), '/v2/team/app/tags/list');
  assert.equal(referrersPath(repo, D), `/v2/team/app/referrers/${D}`);
});
