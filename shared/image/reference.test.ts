import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  checkDigest,
  type ImageReference,
  normalizeReference,
  parseReference,
  type ReferenceErrorCode,
  referenceCacheSize,
  registryReference,
  splitRegistryPath,
  withDigest,
  withTag,
} from './reference.ts';

const HEX64 = 'a'.repeat(32) + '0123456789abcdef'.repeat(2);
const SHA = `sha256:${HEX64}`;

function ok(input: string): ImageReference {
  const r = parseReference(input);
  assert.ok(r.ok, `expected ${JSON.stringify(input)} to parse, got ${r.ok ? '' : r.error.message}`);
  return r.value;
}

function err(input: string): ReferenceErrorCode {
  const r = parseReference(input);
  assert.ok(!r.ok, `expected ${JSON.stringify(input)} to be rejected, got ${r.ok ? r.value.string : ''}`);
  return r.error.code;
}

describe('§2.1 normalization table', () => {
  const rows: [string, string][] = [
    ['nginx', 'docker.io/library/nginx'],
    ['nginx:1.27', 'docker.io/library/nginx:1.27'],
    ['library/nginx:1.27', 'docker.io/library/nginx:1.27'],
    ['docker.io/nginx:1.27', 'docker.io/library/nginx:1.27'],
    ['index.docker.io/library/nginx', 'docker.io/library/nginx'],
    ['bitnami/redis:7', 'docker.io/bitnami/redis:7'],
    ['myregistry/foo', 'docker.io/myregistry/foo'],
    ['quay.io/prometheus/node-exporter:v1.8.0', 'quay.io/prometheus/node-exporter:v1.8.0'],
    ['registry.k8s.io/kube-apiserver:v1.30.0', 'registry.k8s.io/kube-apiserver:v1.30.0'],
    ['localhost:5000/foo:bar', 'localhost:5000/foo:bar'],
    ['localhost/foo', 'localhost/foo'],
    [`nginx@${SHA}`, `docker.io/library/nginx@${SHA}`],
  ];
  for (const [input, normalized] of rows) {
    test(`${input} normalizes to ${normalized}`, () => {
      assert.equal(ok(input).string, normalized);
      assert.equal(normalizeReference(input), normalized);
    });
  }

  test('Nginx:1 is a parse error (uppercase repository)', () => {
    assert.equal(err('Nginx:1'), 'uppercase');
    assert.equal(normalizeReference('Nginx:1'), undefined);
  });

  test('no default tag is added: nginx and nginx:latest stay distinct', () => {
    assert.notEqual(ok('nginx').string, ok('nginx:latest').string);
    assert.equal(ok('nginx').tag, undefined);
  });
});

describe('parsed fields', () => {
  test('exposes domain, path, name, tag and digest', () => {
    const r = ok(`quay.io/prometheus/node-exporter:v1.8.0@${SHA}`);
    assert.deepEqual(
      { ...r },
      {
        domain: 'quay.io',
        path: 'prometheus/node-exporter',
        name: 'quay.io/prometheus/node-exporter',
        tag: 'v1.8.0',
        digest: SHA,
        string: `quay.io/prometheus/node-exporter:v1.8.0@${SHA}`,
      },
    );
  });

  test('docker hub official image gets the library/ path', () => {
    const r = ok('nginx:1.27');
    assert.equal(r.domain, 'docker.io');
    assert.equal(r.path, 'library/nginx');
    assert.equal(r.name, 'docker.io/library/nginx');
  });

  test('index.docker.io with a user repository becomes docker.io without library/', () => {
    assert.equal(ok('index.docker.io/foo/bar').string, 'docker.io/foo/bar');
  });

  test('docker.io with a port is another registry: no library/ prefix, no renaming', () => {
    assert.equal(ok('docker.io:443/nginx').string, 'docker.io:443/nginx');
  });
});

describe('digests', () => {
  test('tag plus digest keeps both', () => {
    const r = ok(`nginx:1.27@${SHA}`);
    assert.equal(r.string, `docker.io/library/nginx:1.27@${SHA}`);
    assert.equal(r.tag, '1.27');
    assert.equal(r.digest, SHA);
  });

  test('sha512 digest with 128 hex characters is accepted', () => {
    assert.equal(ok(`foo@sha512:${'ab'.repeat(64)}`).digest, `sha512:${'ab'.repeat(64)}`);
  });

  test('sha384 digest with 96 hex characters is accepted', () => {
    assert.ok(ok(`foo@sha384:${'c'.repeat(96)}`).digest?.startsWith('sha384:'));
  });

  test('a sha256 digest of the wrong length is rejected', () => {
    assert.equal(err(`nginx@sha256:${'a'.repeat(63)}`), 'invalid-digest');
    assert.equal(err(`nginx@sha256:${'a'.repeat(65)}`), 'invalid-digest');
  });

  test('uppercase hex in a sha256 digest is rejected (go-digest wants lowercase)', () => {
    assert.equal(err(`nginx@sha256:${HEX64.toUpperCase()}`), 'invalid-digest');
  });

  test('an unknown digest algorithm is unsupported', () => {
    assert.equal(err(`nginx@md5:${'a'.repeat(32)}`), 'unsupported-digest');
  });

  test('a digest shorter than 32 hex characters does not match the grammar', () => {
    assert.equal(err('nginx@sha256:abc'), 'invalid-format');
  });

  test('an empty digest after @ is invalid', () => {
    assert.equal(err('nginx:1.27@'), 'invalid-format');
  });
});

describe('registries, ports, IPv6', () => {
  test('host with port and nested path', () => {
    const r = ok('registry.example.com:5000/team/app:v1');
    assert.equal(r.domain, 'registry.example.com:5000');
    assert.equal(r.path, 'team/app');
  });

  test('localhost alone is a repository, not a host', () => {
    assert.equal(ok('localhost').string, 'docker.io/library/localhost');
  });

  test('foo:5000 without a slash is an image with tag 5000', () => {
    const r = ok('foo:5000');
    assert.equal(r.string, 'docker.io/library/foo:5000');
    assert.equal(r.tag, '5000');
  });

  test('IPv6 host with port', () => {
    const r = ok('[::1]:5000/foo:bar');
    assert.equal(r.domain, '[::1]:5000');
    assert.equal(r.path, 'foo');
    assert.equal(r.string, '[::1]:5000/foo:bar');
  });

  test('IPv6 host without port', () => {
    assert.equal(ok('[2001:db8::1]/foo').domain, '[2001:db8::1]');
  });

  test('IPv6 zone identifiers are rejected', () => {
    assert.equal(err('[fe80::1%eth0]:5000/foo'), 'invalid-format');
  });

  test('IPv4 host with port', () => {
    assert.equal(ok('10.0.0.1:5000/foo').domain, '10.0.0.1:5000');
  });

  test('a non-numeric port is invalid', () => {
    assert.equal(err('foo.com:abc/x'), 'invalid-format');
  });

  test('an underscore host still prints the same string (distribution reports an empty Domain())', () => {
    const r = ok('foo_bar.com/x');
    assert.equal(r.string, 'foo_bar.com/x');
    assert.equal(r.domain, 'foo_bar.com');
    assert.equal(r.path, 'x');
  });
});

describe('uppercase', () => {
  test('uppercase in the repository path is rejected', () => {
    assert.equal(err('docker.io/Library/nginx'), 'uppercase');
    assert.equal(err('quay.io/Prometheus/node-exporter'), 'uppercase');
  });

  test('uppercase in the domain is allowed and kept', () => {
    assert.equal(ok('Quay.IO/prometheus/node-exporter:v1').string, 'Quay.IO/prometheus/node-exporter:v1');
  });

  test('a first component that is not all lowercase is a domain even without a dot', () => {
    const r = ok('FOO/bar');
    assert.equal(r.domain, 'FOO');
    assert.equal(r.string, 'FOO/bar');
  });

  test('LOCALHOST is a domain because it is not lowercase', () => {
    assert.equal(ok('LOCALHOST/foo').domain, 'LOCALHOST');
  });

  test('uppercase in the tag is allowed', () => {
    assert.equal(ok('nginx:LATEST').tag, 'LATEST');
  });

  test('a message names the offending repository', () => {
    const r = parseReference('Nginx:1');
    assert.ok(!r.ok);
    assert.match(r.error.message, /repository name \(library\/Nginx\) must be lowercase/);
  });
});

describe('lengths', () => {
  test('a repository path of exactly 255 characters is accepted', () => {
    // The limit counts the path without the domain, library/ included (8 characters).
    const r = ok('a'.repeat(247));
    assert.equal(r.path.length, 255);
  });

  test('a repository path of 256 characters is rejected (distribution RepositoryNameTotalLengthMax)', () => {
    assert.equal(err('a'.repeat(248)), 'name-too-long');
  });

  test('the limit counts the library/ prefix the user did not write', () => {
    assert.equal(ok(`library/${'b'.repeat(247)}`).path.length, 255);
    assert.equal(err(`${'b'.repeat(248)}:1`), 'name-too-long');
  });

  test('the domain does not count towards the limit', () => {
    assert.equal(ok(`quay.io/${'c'.repeat(255)}`).name.length, 263);
    assert.equal(err(`quay.io/${'c'.repeat(256)}`), 'name-too-long');
  });

  test('a 128-character tag is accepted and a 129-character one rejected', () => {
    assert.equal(ok(`nginx:${'t'.repeat(128)}`).tag?.length, 128);
    assert.equal(err(`nginx:${'t'.repeat(129)}`), 'invalid-format');
  });

  test('input longer than 1024 characters is rejected before any regex runs', () => {
    assert.equal(err(`${'a/'.repeat(600)}x`), 'too-long');
  });

  test('hostile input cannot make parsing slow', () => {
    const hostile = [
      `${'a'.repeat(1000)}!`,
      `${'a-'.repeat(500)}!`,
      `${'a.'.repeat(500)}/!`,
      `x.com/${'a_'.repeat(400)}A`,
    ];
    const start = performance.now();
    for (const h of hostile) parseReference(h);
    assert.ok(performance.now() - start < 200, 'parsing pathological input took too long');
  });
});

describe('rejections', () => {
  test('the empty string is rejected', () => {
    assert.equal(err(''), 'empty');
  });

  test('a bare 64-hex string is rejected as an identifier', () => {
    assert.equal(err(HEX64), 'hex-identifier');
  });

  test('a 65-hex string is a valid repository name', () => {
    assert.equal(ok(`${HEX64}a`).string, `docker.io/library/${HEX64}a`);
  });

  test('a 64-character uppercase hex string is rejected as uppercase, not as an identifier', () => {
    assert.equal(err(HEX64.toUpperCase()), 'uppercase');
  });

  const invalid = [
    'nginx ',
    ' nginx',
    'nginx:',
    'nginx::1',
    '/nginx',
    'nginx/',
    'a//b',
    'a/b:c/d',
    '-nginx',
    'nginx-',
    'ngi..nx',
    'ngi___nx',
    'nginx:-tag',
    'nginx:ta g',
    'docker.io/',
    'http://docker.io/nginx',
  ];
  for (const input of invalid) {
    test(`${JSON.stringify(input)} is rejected without throwing`, () => {
      assert.equal(err(input), 'invalid-format');
    });
  }

  test('repeated dashes and double underscores are valid separators', () => {
    assert.equal(ok('my--app__x.y-z').string, 'docker.io/library/my--app__x.y-z');
  });
});

describe('helpers', () => {
  test('splitRegistryPath splits at the first slash and keeps the tag (§2.3)', () => {
    assert.deepEqual(splitRegistryPath(ok('nginx:1.27')), {
      registry: 'docker.io',
      path: 'library/nginx:1.27',
    });
    assert.deepEqual(splitRegistryPath(ok('localhost:5000/foo:bar')), {
      registry: 'localhost:5000',
      path: 'foo:bar',
    });
  });

  test('splitRegistryPath keeps the digest', () => {
    assert.deepEqual(splitRegistryPath(ok(`nginx@${SHA}`)), {
      registry: 'docker.io',
      path: `library/nginx@${SHA}`,
    });
  });

  test('withDigest builds name@digest and drops the tag', () => {
    const r = withDigest(ok('quay.io/prometheus/node-exporter:v1.8.0'), SHA);
    assert.ok(r.ok);
    assert.equal(r.value.string, `quay.io/prometheus/node-exporter@${SHA}`);
    assert.equal(r.value.tag, undefined);
  });

  test('withDigest accepts an unparsed reference and normalizes it', () => {
    const r = withDigest('nginx:1.27', SHA);
    assert.ok(r.ok);
    assert.equal(r.value.string, `docker.io/library/nginx@${SHA}`);
  });

  test('withDigest rejects a malformed digest', () => {
    const r = withDigest('nginx', 'sha256:xyz');
    assert.ok(!r.ok);
    assert.equal(r.error.code, 'invalid-digest');
  });

  test('withTag replaces tag and digest', () => {
    const r = withTag(ok(`nginx:1@${SHA}`), '2');
    assert.ok(r.ok);
    assert.equal(r.value.string, 'docker.io/library/nginx:2');
    assert.ok(!withTag('nginx', '-bad').ok);
  });

  test('checkDigest validates algorithm and length', () => {
    assert.equal(checkDigest(SHA), undefined);
    assert.equal(checkDigest('sha256')?.code, 'invalid-digest');
    assert.equal(checkDigest(`sha1:${'a'.repeat(40)}`)?.code, 'unsupported-digest');
  });

  test('registryReference prefers the digest, then the tag, then latest', () => {
    assert.equal(registryReference(ok(`nginx:1@${SHA}`)), SHA);
    assert.equal(registryReference(ok('nginx:1')), '1');
    assert.equal(registryReference(ok('nginx')), 'latest');
  });
});

describe('parse cache', () => {
  test('rejected inputs, over-long ones above all, are not kept (issue 14: 2 MiB images stayed as keys)', () => {
    const before = referenceCacheSize();
    for (let i = 0; i < 50; i++) {
      const long = `registry.example/${String(i)}${'A'.repeat(64 * 1024)}`;
      assert.equal(parseReference(long).ok, false);
      assert.equal(parseReference(`Bad/Upper${i}`).ok, false);
    }
    assert.equal(referenceCacheSize(), before);
    const again = parseReference(`registry.example/0${'A'.repeat(64 * 1024)}`);
    assert.equal(again.ok, false);
    assert.equal(again.ok ? '' : again.error.code, 'too-long');
  });

  test('references that parse are kept and answered again', () => {
    const input = `cache-test.example/app-${Date.now()}:1`;
    const first = parseReference(input);
    const size = referenceCacheSize();
    assert.equal(parseReference(input), first);
    assert.equal(referenceCacheSize(), size);
  });
});
