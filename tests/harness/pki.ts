// Test PKI made with the openssl CLI: one CA that signs the apiserver's, the registries' and the
// webhooks' serving certificates and the admin client certificate, plus the service-account key
// pair and the registry token signer. Everything lives in the run directory and dies with it.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './proc.ts';

export interface Pki {
  dir: string;
  caCert: string;
  caKey: string;
  apiserverCert: string;
  apiserverKey: string;
  /** Serving certificate for anything on 127.0.0.1 / localhost (registries, webhooks). */
  servingCert: string;
  servingKey: string;
  adminCert: string;
  adminKey: string;
  saKey: string;
  saPub: string;
  /** Self-signed certificate whose key signs registry bearer tokens (distribution's rootcertbundle). */
  tokenCert: string;
  tokenKey: string;
}

const serverExt = (extraSans: readonly string[]) =>
  [
    `subjectAltName=${['IP:127.0.0.1', 'IP:::1', 'DNS:localhost', ...extraSans].join(',')}`,
    'extendedKeyUsage=serverAuth',
    'keyUsage=digitalSignature,keyEncipherment',
    'basicConstraints=CA:FALSE',
  ].join('\n');
const CLIENT_EXT = ['extendedKeyUsage=clientAuth', 'keyUsage=digitalSignature,keyEncipherment'].join('\n');

/**
 * `extraSans`: more subjectAltNames (`IP:…`, `DNS:…`) for the serving certificates, for parts
 * reached by other names than loopback (the real cluster's node IP and Service names).
 * `extraLeaves`: more certificates signed by the CA (a kubelet's, say): name → subject, server?
 */
/** A new RSA key and a self-signed certificate for `subject`; `extra`: more `openssl req` flags. */
export async function selfSignedCert(o: {
  subject: string;
  key: string;
  cert: string;
  days: string;
  extra?: readonly string[];
}): Promise<void> {
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    o.days,
    '-subj',
    o.subject,
    ...(o.extra ?? []),
    '-keyout',
    o.key,
    '-out',
    o.cert,
  ]);
}

/**
 * A new RSA key and a certificate for `subject` signed by the CA (`caCert`, `caKey`), with the
 * extensions in `extFile`; the request is left at `cert` with `.csr` for `.crt`.
 */
export async function signedCert(o: {
  subject: string;
  key: string;
  cert: string;
  caCert: string;
  caKey: string;
  extFile: string;
  days: string;
}): Promise<void> {
  const csr = o.cert.replace(/\.crt$/, '') + '.csr';
  await run('openssl', [
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    o.subject,
    '-keyout',
    o.key,
    '-out',
    csr,
  ]);
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    o.caCert,
    '-CAkey',
    o.caKey,
    '-CAcreateserial',
    '-days',
    o.days,
    '-extfile',
    o.extFile,
    '-out',
    o.cert,
  ]);
}

export async function makePki(
  dir: string,
  extraSans: readonly string[] = [],
  extraLeaves: Record<string, { subject: string; server: boolean }> = {},
): Promise<Pki> {
  await mkdir(dir, { recursive: true });
  const p = (n: string) => join(dir, n);
  await writeFile(p('server.ext'), serverExt(extraSans));
  await writeFile(p('client.ext'), CLIENT_EXT);
  const days = '30';
  // A self-signed certificate: the CA, and the registry token signer (distribution's rootcertbundle).
  const selfSigned = (cn: string, name: string) =>
    selfSignedCert({ subject: `/CN=${cn}`, key: p(`${name}.key`), cert: p(`${name}.crt`), days });
  await selfSigned('kuik-test-ca', 'ca');
  const leaf = (name: string, subject: string, ext: string) =>
    signedCert({
      subject,
      key: p(`${name}.key`),
      cert: p(`${name}.crt`),
      caCert: p('ca.crt'),
      caKey: p('ca.key'),
      extFile: p(ext),
      days,
    });
  // Independent keys: generate them concurrently (each openssl is its own process).
  await Promise.all([
    leaf('apiserver', '/CN=kube-apiserver', 'server.ext'),
    leaf('serving', '/CN=localhost', 'server.ext'),
    leaf('admin', '/O=system:masters/CN=kuik-test-admin', 'client.ext'),
    ...Object.entries(extraLeaves).map(([name, l]) =>
      leaf(name, l.subject, l.server ? 'server.ext' : 'client.ext'),
    ),
    run('openssl', ['genrsa', '-out', p('sa.key'), '2048']).then(() =>
      run('openssl', ['rsa', '-in', p('sa.key'), '-pubout', '-out', p('sa.pub')]),
    ),
    selfSigned('kuik-test-token-signer', 'token'),
  ]);
  return pkiPaths(dir);
}

/** The files of a PKI made by makePki in `dir` (to start more parts that trust the same CA). */
export function pkiPaths(dir: string): Pki {
  const p = (n: string) => join(dir, n);
  return {
    dir,
    caCert: p('ca.crt'),
    caKey: p('ca.key'),
    apiserverCert: p('apiserver.crt'),
    apiserverKey: p('apiserver.key'),
    servingCert: p('serving.crt'),
    servingKey: p('serving.key'),
    adminCert: p('admin.crt'),
    adminKey: p('admin.key'),
    saKey: p('sa.key'),
    saPub: p('sa.pub'),
    tokenCert: p('token.crt'),
    tokenKey: p('token.key'),
  };
}

/** An admin kubeconfig with the certificates embedded, so it can be copied anywhere. */
export async function writeKubeconfig(file: string, server: string, pki: Pki): Promise<void> {
  const b64 = async (f: string) => (await readFile(f)).toString('base64');
  const yaml = `apiVersion: v1
kind: Config
clusters:
- name: kuik-test
  cluster:
    server: ${server}
    certificate-authority-data: ${await b64(pki.caCert)}
users:
- name: admin
  user:
    client-certificate-data: ${await b64(pki.adminCert)}
    client-key-data: ${await b64(pki.adminKey)}
contexts:
- name: kuik-test
  context: {cluster: kuik-test, user: admin}
current-context: kuik-test
`;
  await writeFile(file, yaml, { mode: 0o600 });
}
