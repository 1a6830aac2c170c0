// From pull secrets to registry credentials (docs/behaviour.md §2.8): the pure part. Which username/password
// pairs in a set of `kubernetes.io/dockerconfigjson` / `kubernetes.io/dockercfg` Secrets apply to
// an image. kuik vendors the kubelet's keyring for this (pkg/credentialprovider), so the answer is
// the one the kubelet itself gives when it pulls: we reproduce that code's rules exactly.
//
//   1. Each `auths` key is read as a URL (`https://` added when there is no scheme); a `/v1/` or
//      `/v2/` path prefix is dropped; the index key is host[:port][/path].
//   2. For an image name (`docker.io/library/nginx`), keys are tried in reverse lexical order
//      (most specific first). A key matches when the host has the same number of dot-separated
//      labels, each label glob-matches (`*.example.com`), the ports are equal and the key's path
//      is a string prefix of the image path. EVERY matching credential is returned, in that order;
//      callers try them one after the other.
//   3. Nothing matched and the image is a Docker Hub image: the credentials stored under
//      `index.docker.io` (the key `docker login` writes, `https://index.docker.io/v1/`).
//
// So for a docker.io image the keys `docker.io`, `index.docker.io` and
// `https://index.docker.io/v1/` all work. kuik found them too, then never sent them (its keychain
// compared `docker.io/…` with go-containerregistry's `index.docker.io/…`): QUIRK fixed here by
// returning plain credentials that the registry client uses for whichever host it talks to.
//
// Secret values never appear in errors: messages name the Secret and what is wrong with it.

import { errorMessage } from '../errors.ts';
import type { ImageReference } from '../image/reference.ts';
import type { Result } from '../result.ts';

/** The part of a core/v1 Secret read here; `V1Secret` from @kubernetes/client-node fits. */
export interface SecretLike {
  metadata?: { name?: string; namespace?: string };
  type?: string;
  /** Base64 values, as the Kubernetes API returns them. */
  data?: Readonly<Record<string, string>> | null;
}

export interface SecretSource {
  readonly namespace: string;
  readonly name: string;
}

export interface RegistryCredential {
  readonly username: string;
  readonly password: string;
  /** The index key that matched (`quay.io/team`, `index.docker.io`): safe to log. */
  readonly registry: string;
  /** Which Secret it came from: safe to log. */
  readonly source: SecretSource;
}

export type CredentialErrorCode = 'invalid-base64' | 'invalid-json' | 'invalid-auth';

export interface CredentialError {
  readonly code: CredentialErrorCode;
  readonly secret: SecretSource;
  /** Names the Secret and the problem, never a value from it. */
  readonly message: string;
}

export const DOCKER_CONFIG_JSON_TYPE = 'kubernetes.io/dockerconfigjson';
export const DOCKER_CONFIG_JSON_KEY = '.dockerconfigjson';
export const DOCKERCFG_TYPE = 'kubernetes.io/dockercfg';
export const DOCKERCFG_KEY = '.dockercfg';

const DEFAULT_REGISTRY_HOST = 'index.docker.io';

/** A set of registry credentials indexed like the kubelet's BasicDockerKeyring. */
export interface DockerKeyring {
  /** Unique index keys, reverse-sorted (most specific first). */
  readonly index: readonly string[];
  readonly creds: ReadonlyMap<string, readonly RegistryCredential[]>;
}

export type KeyringResult = Result<DockerKeyring, CredentialError>;
export type CredentialsResult = Result<RegistryCredential[], CredentialError>;

// --- base64, as Go's encoding/base64 reads it ---

const PADDED_B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const RAW_B64 = /^[A-Za-z0-9+/]*$/;

/** StdEncoding (padded) or RawStdEncoding; Go ignores `\r` and `\n` in both. */
function decodeBase64(s: string, padded: boolean): Uint8Array | undefined {
  const t = s.replace(/[\r\n]/g, '');
  if (padded ? !PADDED_B64.test(t) : !RAW_B64.test(t) || t.length % 4 === 1) return undefined;
  return Buffer.from(t, 'base64');
}

const utf8 = new TextDecoder();

// --- JSON, as Go's encoding/json decodes DockerConfigJSON / DockerConfig ---

class ShapeError extends Error {}

/** Go matches struct fields case-insensitively: every key that folds to `name`, in order. */
function fieldValues(obj: Record<string, unknown>, name: string): unknown[] {
  return Object.keys(obj)
    .filter((k) => k.toLowerCase() === name)
    .map((k) => obj[k]);
}

function stringField(obj: Record<string, unknown>, name: string): string {
  let out = '';
  for (const v of fieldValues(obj, name)) {
    if (v === null) continue;
    if (typeof v !== 'string') throw new ShapeError(`field "${name}" must be a string`);
    out = v;
  }
  return out;
}

const isObject = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x);

interface Entry {
  username: string;
  password: string;
  /** Set when the entry had an `auth` field that is not base64(user:password). */
  badAuth: boolean;
}

/** DockerConfigEntry.UnmarshalJSON: `auth` (base64 of user:password) overrides username/password. */
function readEntry(raw: unknown): Entry {
  if (raw === null) return { username: '', password: '', badAuth: false };
  if (!isObject(raw)) throw new ShapeError('each auths entry must be an object');
  const username = stringField(raw, 'username');
  const password = stringField(raw, 'password');
  const auth = stringField(raw, 'auth');
  if (auth === '') return { username, password, badAuth: false };
  const decoded = decodeBase64(auth, auth.trim().endsWith('='));
  if (decoded === undefined) return { username: '', password: '', badAuth: true };
  const text = utf8.decode(decoded);
  const colon = text.indexOf(':');
  if (colon === -1) return { username: '', password: '', badAuth: true };
  return { username: text.slice(0, colon), password: text.slice(colon + 1), badAuth: false };
}

/** The `auths` map of a .dockerconfigjson, or the whole legacy .dockercfg map. */
function readConfigMap(raw: unknown, legacy: boolean): Map<string, Entry> {
  const out = new Map<string, Entry>();
  if (raw === null) return out;
  if (!isObject(raw)) throw new ShapeError('the document must be a JSON object');
  // Go decodes every key folding to "auths" into the same map, merging entries.
  const maps = legacy ? [raw] : fieldValues(raw, 'auths');
  for (const m of maps) {
    if (m === null) continue;
    if (!isObject(m)) throw new ShapeError('"auths" must be an object');
    for (const [key, entry] of Object.entries(m)) out.set(key, readEntry(entry));
  }
  return out;
}

// --- URLs, as Go's net/url reads the keys and image names ---

interface ParsedUrl {
  host: string;
  path: string;
}

// Go's net/url accepts these (unescaped) in a host; anything else ASCII is an error.
const HOST_CHARS = /^[A-Za-z0-9\-._~!$&'()*+,;=:[\]<>"%\u0080-\uffff]*$/;

function unescapePath(p: string): string | undefined {
  if (!p.includes('%')) return p;
  if (/%(?![0-9A-Fa-f]{2})/.test(p)) return undefined;
  try {
    return decodeURIComponent(p);
  } catch {
    return undefined;
  }
}

/** Enough of Go's url.Parse for `scheme://[userinfo@]host[:port][/path][?query][#fragment]`. */
function parseUrl(value: string): ParsedUrl | undefined {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: Go rejects control characters in URLs.
  if (/[\u0000-\u001f\u007f]/.test(value)) return undefined;
  const schemeEnd = value.indexOf('://');
  if (schemeEnd === -1) return undefined;
  let rest = value.slice(schemeEnd + 3);
  rest = rest.split('#', 1)[0] as string;
  rest = rest.split('?', 1)[0] as string;
  const slash = rest.indexOf('/');
  const authority = slash === -1 ? rest : rest.slice(0, slash);
  const rawPath = slash === -1 ? '' : rest.slice(slash);
  const host = authority.slice(authority.lastIndexOf('@') + 1);
  if (!HOST_CHARS.test(host)) return undefined;
  if (host.startsWith('[')) {
    const close = host.indexOf(']');
    if (close === -1) return undefined;
    const after = host.slice(close + 1);
    if (after !== '' && !/^:[0-9]*$/.test(after)) return undefined;
  } else {
    const colon = host.lastIndexOf(':');
    if (colon !== -1 && !/^[0-9]*$/.test(host.slice(colon + 1))) return undefined;
  }
  const path = unescapePath(rawPath);
  if (path === undefined) return undefined;
  return { host, path };
}

/** Go's net.SplitHostPort, falling back to (host, "") as the keyring does when it fails. */
function splitHostPort(hostport: string): { labels: string[]; port: string } {
  let host = hostport;
  let port = '';
  if (hostport.startsWith('[')) {
    const close = hostport.indexOf(']');
    if (close !== -1 && hostport[close + 1] === ':' && !hostport.slice(close + 2).includes(':')) {
      host = hostport.slice(1, close);
      port = hostport.slice(close + 2);
    }
  } else {
    const colon = hostport.lastIndexOf(':');
    if (colon !== -1 && hostport.indexOf(':') === colon) {
      host = hostport.slice(0, colon);
      port = hostport.slice(colon + 1);
    }
  }
  return { labels: host.split('.'), port };
}

// --- glob, as Go's path/filepath.Match on one host label ---

const escapeRe = (c: string): string => c.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');

/** A RegExp for a filepath.Match pattern, or undefined when the pattern is malformed (ErrBadPattern). */
export function globToRegExp(pattern: string): RegExp | undefined {
  let re = '^';
  const chars = [...pattern];
  let i = 0;
  const esc = (): string | undefined => {
    // getEsc: a class character; `-` and `]` must be escaped, `\x` is x.
    const c = chars[i];
    if (c === undefined || c === '-' || c === ']') return undefined;
    if (c === '\\') {
      i++;
      const e = chars[i];
      if (e === undefined) return undefined;
      i++;
      return e;
    }
    i++;
    return c;
  };
  while (i < chars.length) {
    const c = chars[i] as string;
    if (c === '*') {
      re += '[^/]*';
      i++;
    } else if (c === '?') {
      re += '[^/]';
      i++;
    } else if (c === '\\') {
      const e = chars[i + 1];
      if (e === undefined) return undefined;
      re += escapeRe(e);
      i += 2;
    } else if (c === '[') {
      i++;
      let negated = false;
      if (chars[i] === '^') {
        negated = true;
        i++;
      }
      const ranges: string[] = [];
      for (;;) {
        if (chars[i] === ']' && ranges.length > 0) {
          i++;
          break;
        }
        const lo = esc();
        if (lo === undefined) return undefined;
        let hi = lo;
        if (chars[i] === '-') {
          i++;
          const h = esc();
          if (h === undefined) return undefined;
          hi = h;
        }
        if (hi < lo) return undefined;
        ranges.push(lo === hi ? escapeRe(lo) : `${escapeRe(lo)}-${escapeRe(hi)}`);
      }
      re += `[${negated ? '^' : ''}${ranges.join('')}]`;
    } else {
      re += escapeRe(c);
      i++;
    }
  }
  try {
    return new RegExp(`${re}$`);
  } catch {
    return undefined;
  }
}

/** URLsMatch: same port, same label count, key path a prefix of the image path, labels glob-match. */
function keyMatches(key: ParsedUrl, target: ParsedUrl): boolean {
  const k = splitHostPort(key.host);
  const t = splitHostPort(target.host);
  if (k.port !== t.port || k.labels.length !== t.labels.length) return false;
  if (!target.path.startsWith(key.path)) return false;
  return k.labels.every((label, i) => globToRegExp(label)?.test(t.labels[i] as string) ?? false);
}

/** isDefaultRegistryMatch: the image is pulled from Docker Hub. */
export function isDockerHubImage(image: string): boolean {
  const slash = image.indexOf('/');
  const first = slash === -1 ? image : image.slice(0, slash);
  if (first === '') return false;
  if (slash === -1) return true;
  if (first === 'docker.io' || first === 'index.docker.io') return true;
  return !first.includes('.') && !first.includes(':');
}

// --- keyring ---

/** The index key of an `auths` entry key, or undefined when the key is not a URL (ignored, as kuik does). */
export function keyringKey(location: string): string | undefined {
  const value =
    location.startsWith('https://') || location.startsWith('http://') ? location : `https://${location}`;
  const parsed = parseUrl(value);
  if (parsed === undefined) return undefined;
  let path = parsed.path;
  if (path.startsWith('/v2/') || path.startsWith('/v1/')) path = path.slice(3);
  return path !== '' && path !== '/' ? parsed.host + path : parsed.host;
}

function sourceOf(secret: SecretLike): SecretSource {
  return { namespace: secret.metadata?.namespace ?? '', name: secret.metadata?.name ?? '' };
}

function fail(code: CredentialErrorCode, secret: SecretSource, problem: string): KeyringResult {
  const where = secret.namespace === '' ? secret.name : `${secret.namespace}/${secret.name}`;
  return { ok: false, error: { code, secret, message: `pull secret ${where}: ${problem}` } };
}

/**
 * Index the docker-config Secrets among `secrets` (others are ignored). A malformed Secret fails
 * the whole keyring, as in kuik (the probe then reports Unreachable, the copy an error).
 */
export function buildKeyring(secrets: readonly SecretLike[]): KeyringResult {
  const creds = new Map<string, RegistryCredential[]>();
  for (const secret of secrets) {
    let raw: string | undefined;
    let legacy: boolean;
    let dataKey: string;
    if (secret.type === DOCKER_CONFIG_JSON_TYPE && (secret.data?.[DOCKER_CONFIG_JSON_KEY] ?? '') !== '') {
      raw = secret.data?.[DOCKER_CONFIG_JSON_KEY];
      legacy = false;
      dataKey = DOCKER_CONFIG_JSON_KEY;
    } else if (secret.type === DOCKERCFG_TYPE && (secret.data?.[DOCKERCFG_KEY] ?? '') !== '') {
      raw = secret.data?.[DOCKERCFG_KEY];
      legacy = true;
      dataKey = DOCKERCFG_KEY;
    } else {
      continue;
    }
    const source = sourceOf(secret);
    const bytes = decodeBase64(raw ?? '', true);
    if (bytes === undefined) return fail('invalid-base64', source, `data["${dataKey}"] is not valid base64`);
    let doc: unknown;
    try {
      doc = JSON.parse(utf8.decode(bytes));
    } catch {
      // JSON.parse messages quote the document: never pass them on.
      return fail('invalid-json', source, `${dataKey} is not valid JSON`);
    }
    let entries: Map<string, Entry>;
    try {
      entries = readConfigMap(doc, legacy);
    } catch (e) {
      return fail('invalid-json', source, `${dataKey} is not a docker config: ${errorMessage(e)}`);
    }
    for (const [location, entry] of entries) {
      if (entry.badAuth) {
        return fail('invalid-auth', source, `an "auth" field in ${dataKey} is not base64(username:password)`);
      }
      const key = keyringKey(location);
      if (key === undefined) continue;
      let list = creds.get(key);
      if (list === undefined) {
        list = [];
        creds.set(key, list);
      }
      list.push({ username: entry.username, password: entry.password, registry: key, source });
    }
  }
  const index = [...creds.keys()].sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));
  return { ok: true, value: { index, creds } };
}

/**
 * Every credential of `keyring` that applies to an image (§2.8 step 3), most specific key first.
 * `image` is a parsed reference or its name (`docker.io/library/nginx`); tag and digest are ignored.
 */
export function lookupCredentials(
  keyring: DockerKeyring,
  image: ImageReference | string,
): RegistryCredential[] {
  const name = typeof image === 'string' ? image : image.name;
  const target = parseUrl(`https://${name}`);
  const out: RegistryCredential[] = [];
  if (target !== undefined) {
    for (const key of keyring.index) {
      const parsedKey = parseUrl(`https://${key}`);
      if (parsedKey !== undefined && keyMatches(parsedKey, target))
        out.push(...(keyring.creds.get(key) ?? []));
    }
  }
  if (out.length > 0) return out;
  if (isDockerHubImage(name)) return [...(keyring.creds.get(DEFAULT_REGISTRY_HOST) ?? [])];
  return [];
}

/** buildKeyring + lookupCredentials: the credentials in `secrets` for `image`, or the Secret that is malformed. */
export function credentialsForImage(
  secrets: readonly SecretLike[],
  image: ImageReference | string,
): CredentialsResult {
  const k = buildKeyring(secrets);
  if (!k.ok) return k;
  return { ok: true, value: lookupCredentials(k.value, image) };
}
