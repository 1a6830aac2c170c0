import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getCACertificates } from 'node:tls';
import { CliError } from './errors.ts';
import { pemBlocks, trustCAs } from './trust.ts';

const [a, b] = getCACertificates('bundled') as [string, string];

test('a bundle is split into its certificates, text around them ignored', () => {
  assert.deepEqual(pemBlocks(`# two CAs\n${a}\nsubject=…\n${b}\n`), [a.trim(), b.trim()]);
  assert.deepEqual(pemBlocks('not a certificate'), []);
});

test('trusted CAs are added to Node’s defaults, which keep the bundled roots', () => {
  const extra = getCACertificates('bundled').at(-1) as string;
  trustCAs([{ pem: extra }]);
  const flat = (pem: string) => pem.replace(/\s+/g, '');
  const now = getCACertificates('default').map(flat);
  assert.ok(now.includes(flat(a)));
  assert.ok(now.includes(flat(extra)));
});

test('a PEM block that is not a certificate is a CliError pointing at --ca-file', () => {
  const broken = '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----';
  assert.throws(
    () => trustCAs([{ pem: broken }]),
    (e: unknown) => e instanceof CliError && /--ca-file/.test(e.message),
  );
});
