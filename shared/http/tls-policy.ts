// The TLS policy of the router's webhook port, configured the way kube-apiserver's own serving is
// (`--tls-min-version`, `--tls-cipher-suites`): Go/IANA version and suite names, mapped here to
// the OpenSSL names Node takes.
//
// Default: TLS 1.2 and 1.3; for TLS 1.2 only forward-secret (ECDHE) suites with an AEAD cipher
// (AES-GCM, ChaCha20-Poly1305). That is Go's default list, which Kubernetes components serve with,
// minus its CBC-SHA1 suites. Node's own default also accepts RSA key exchange (no forward secrecy)
// and CBC suites. TLS 1.3 suites are all AEAD and forward-secret; as in Go, they are not
// configurable (names of TLS 1.3 suites are accepted in the list and ignored, as the apiserver does).
import type { SecureContextOptions, TlsOptions } from 'node:tls';

export type TlsMinVersion = 'VersionTLS12' | 'VersionTLS13';

export interface TlsPolicy {
  minVersion: TlsMinVersion;
  /** IANA names; empty: DEFAULT_CIPHER_SUITES. */
  cipherSuites: readonly string[];
}

/** Go's crypto/tls TLS 1.2 suite names (as `--tls-cipher-suites` takes them) → OpenSSL's. */
const TLS12_SUITES: Readonly<Record<string, string>> = {
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
  // Go's older spellings of the two above, which the apiserver still takes.
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305: 'ECDHE-RSA-CHACHA20-POLY1305',
  // Not in the default: CBC with SHA-1/SHA-256 MACs, and RSA key exchange (no forward secrecy).
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: 'ECDHE-ECDSA-AES128-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: 'ECDHE-ECDSA-AES256-SHA',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 'ECDHE-RSA-AES128-SHA',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 'ECDHE-RSA-AES256-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256: 'ECDHE-ECDSA-AES128-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256: 'ECDHE-RSA-AES128-SHA256',
  TLS_RSA_WITH_AES_128_GCM_SHA256: 'AES128-GCM-SHA256',
  TLS_RSA_WITH_AES_256_GCM_SHA384: 'AES256-GCM-SHA384',
  TLS_RSA_WITH_AES_128_CBC_SHA: 'AES128-SHA',
  TLS_RSA_WITH_AES_256_CBC_SHA: 'AES256-SHA',
  TLS_RSA_WITH_AES_128_CBC_SHA256: 'AES128-SHA256',
};

/** TLS 1.3 suites: always on (OpenSSL's defaults), accepted in the list and ignored, as Go does. */
const TLS13_SUITES = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'];

export const DEFAULT_CIPHER_SUITES: readonly string[] = [
  'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256',
  'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
  'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384',
  'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
  'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256',
  'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256',
];

export const DEFAULT_TLS_POLICY: TlsPolicy = { minVersion: 'VersionTLS12', cipherSuites: [] };

export const TLS_MIN_VERSIONS: readonly TlsMinVersion[] = ['VersionTLS12', 'VersionTLS13'];

/** Problems with a policy, one message each (empty: valid). */
export function tlsPolicyProblems(policy: TlsPolicy): string[] {
  const unknown = policy.cipherSuites
    .filter((n) => !(n in TLS12_SUITES) && !TLS13_SUITES.includes(n))
    .map(
      (n) =>
        `unknown or unsupported cipher suite ${JSON.stringify(n)}: use Go/IANA names such as TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256`,
    );
  if (unknown.length > 0) return unknown;
  const tls12 = policy.cipherSuites.filter((n) => n in TLS12_SUITES);
  if (policy.cipherSuites.length > 0 && tls12.length === 0 && policy.minVersion === 'VersionTLS12')
    return [
      'names no TLS 1.2 suite: TLS 1.2 clients could not connect (set minVersion: VersionTLS13 to serve TLS 1.3 only)',
    ];
  return [];
}

/** The Node server options of a policy: minimum version, OpenSSL cipher string, server's order. */
export function tlsServerOptions(
  policy: TlsPolicy,
): Pick<TlsOptions, 'minVersion' | 'ciphers' | 'honorCipherOrder'> {
  const problems = tlsPolicyProblems(policy);
  if (problems.length > 0) throw new Error(problems.join('; '));
  const named = policy.cipherSuites.filter((n) => n in TLS12_SUITES);
  // TLS 1.3 only: the TLS 1.2 list is never used, but OpenSSL wants one.
  const tls12 = (named.length > 0 ? named : DEFAULT_CIPHER_SUITES).map((n) => TLS12_SUITES[n] as string);
  // Node splits this string: `TLS_*` names go to TLS 1.3, the rest to TLS 1.2. Listing the TLS 1.3
  // suites keeps them on when the operator's list names only TLS 1.2 ones.
  const ciphers = [...TLS13_SUITES, ...new Set(tls12)].join(':');
  return {
    minVersion: policy.minVersion === 'VersionTLS13' ? 'TLSv1.3' : 'TLSv1.2',
    ciphers,
    honorCipherOrder: true,
  };
}

/** Everything a secure context needs: the policy plus the (possibly rotated) certificate. */
export function secureContextOptions(
  policy: TlsPolicy,
  pair: { cert: string | Buffer; key: string | Buffer; ca?: import('node:tls').SecureContextOptions['ca'] },
): SecureContextOptions {
  // The client CA (mutual TLS) belongs to the context too: a reload without it would refuse every
  // client the listener asks a certificate of.
  return { ...tlsServerOptions(policy), cert: pair.cert, key: pair.key, ...(pair.ca ? { ca: pair.ca } : {}) };
}
