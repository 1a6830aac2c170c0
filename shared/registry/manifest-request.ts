// Manifest requests on top of the transport: HEAD/GET with every OCI/Docker Accept type, the
// checks that turn a 200 into a usable descriptor, and DELETE. The probe (probe.ts) classifies
// the answers; the repository client (repo.ts) reads manifests with the same function, and
// reconcile deletes mirrors with deleteManifest.

import { err, ok, type Result } from '../result.ts';
import type { Scope } from './challenge.ts';
import { deadlinePassed, pickContext, type RequestContext } from './deadline.ts';
import { errorMessage, RegistryError } from './errors.ts';
import { type Descriptor, isDigest, sha256Digest } from './manifest.ts';
import { bareMediaType, MANIFEST_ACCEPT } from './media-types.ts';
import { parseRateLimit, type RateLimit } from './outcome.ts';
import { formatRef, type ManifestRef, manifestPath } from './reference.ts';
import {
  type BasicCredential,
  errorDetail,
  header,
  type RegistryResponse,
  type RegistryTransport,
  redact,
  statusLine,
} from './transport.ts';

/** kuik reads manifests up to 100 MiB (§6.4 step 2); anything bigger is not a manifest. */
export const MAX_MANIFEST_BYTES = 100 * 1024 * 1024;

export interface ManifestRequestOptions extends RequestContext {
  method?: 'HEAD' | 'GET';
  credential?: BasicCredential | undefined;
  /** Default: pull on the reference's repository. */
  scopes?: readonly Scope[];
  maxBytes?: number;
}

export interface ManifestFound {
  descriptor: Descriptor;
  /** GET only: the manifest bytes, verified against the digest. */
  body?: Buffer;
  rateLimit?: RateLimit;
  attempts: number;
}

/** A registry's "no" is data, not a throw: the probe classifies it by status and rate limit. */
export interface ManifestRefused {
  /** The HTTP status; 200 when the registry said yes but the answer is unusable. */
  status: number;
  /** `HEAD https://…: 404 MANIFEST_UNKNOWN manifest unknown`: what went wrong, no secrets. */
  message: string;
  rateLimit?: RateLimit;
  attempts: number;
}

export type ManifestAnswer = Result<ManifestFound, ManifestRefused>;

/**
 * HEAD or GET `ref`'s manifest. HTTP outcomes come back as data (ok or not, with the rate-limit
 * headers); network failures, timeouts and refused pings or tokens throw a RegistryError.
 */
export async function fetchManifest(
  transport: RegistryTransport,
  ref: ManifestRef,
  opts: ManifestRequestOptions = {},
): Promise<ManifestAnswer> {
  const method = opts.method ?? 'HEAD';
  const res = await transport.request(ref.registry, {
    ...pickContext(opts),
    method,
    path: manifestPath(ref),
    headers: { accept: MANIFEST_ACCEPT },
    scopes: opts.scopes ?? [{ repository: ref.repository, actions: ['pull'] }],
    credential: opts.credential,
  });
  const rateLimit = parseRateLimit(res.headers);
  const rl = rateLimit ? { rateLimit } : {};
  const where = `${method} ${redact(new URL(res.url))}`;
  if (res.status !== 200) {
    const text = method === 'GET' ? await readCapped(res, 64 * 1024).catch(() => '') : '';
    if (method === 'HEAD') await res.body.dump();
    return err({
      status: res.status,
      message: `${where}: ${statusLine(res.status)}${errorDetail(text)}`,
      attempts: res.attempts,
      ...rl,
    });
  }
  const unusable = async (why: string): Promise<ManifestAnswer> => {
    await res.body.dump().catch(() => {});
    return err({ status: 200, message: `${where}: ${why}`, attempts: res.attempts, ...rl });
  };

  const contentType = header(res.headers, 'content-type');
  if (!contentType) return unusable('the response lacks the Content-Type header');
  const mediaType = bareMediaType(contentType);
  const advertised = header(res.headers, 'docker-content-digest');
  if (advertised !== undefined && !isDigest(advertised)) {
    return unusable(`the Docker-Content-Digest header ${JSON.stringify(advertised)} is not a digest`);
  }

  if (method === 'HEAD') {
    // §4.7 step 3: a HEAD needs all three headers; kuik treats a registry that omits one as
    // unavailable (§9 "HEAD strictness").
    const length = header(res.headers, 'content-length');
    await res.body.dump();
    if (advertised === undefined) return unusable('the response lacks the Docker-Content-Digest header');
    if (length === undefined || !/^\d+$/.test(length))
      return unusable('the response lacks the Content-Length header');
    if (ref.digest !== undefined && advertised !== ref.digest) {
      return unusable(`the registry answered digest ${advertised} for ${ref.digest}`);
    }
    return ok({
      descriptor: { mediaType, digest: advertised, size: Number(length) },
      attempts: res.attempts,
      ...rl,
    });
  }

  let body: Buffer;
  try {
    body = await readBytes(res, opts.maxBytes ?? MAX_MANIFEST_BYTES);
  } catch (err) {
    // A body cut short (socket closed, body timeout, deadline) or too big: unusable either way.
    if (opts.signal?.aborted && deadlinePassed(opts)) {
      return unusable(
        `reading the manifest timed out${opts.timeoutMs === undefined ? '' : ` after ${opts.timeoutMs} ms`}`,
      );
    }
    return unusable(`reading the manifest failed: ${errorMessage(err)}`);
  }
  // The body is the truth: its sha256 is the digest. Like go-containerregistry, a tag's
  // Docker-Content-Digest is not cross-checked (registries get it wrong), a digest request is.
  const digest = sha256Digest(body);
  if (ref.digest?.startsWith('sha256:') && ref.digest !== digest) {
    return unusable(`the manifest's digest is ${digest}, not the requested ${ref.digest}`);
  }
  return ok({
    descriptor: { mediaType, digest: ref.digest ?? digest, size: body.length },
    body,
    attempts: res.attempts,
    ...rl,
  });
}

/**
 * A refused or unusable answer as a RegistryError: `protocol` when the registry said 200 but the
 * answer is unusable, `http` otherwise; `where` prefixes the message.
 */
export function answerError(refused: ManifestRefused, where = ''): RegistryError {
  return new RegistryError(refused.status === 200 ? 'protocol' : 'http', `${where}${refused.message}`, {
    status: refused.status,
    ...(refused.rateLimit ? { rateLimit: refused.rateLimit } : {}),
  });
}

/** What every answer carries, found or refused: the requests it took and the rate-limit headers. */
export function answerCost(answer: ManifestAnswer): { attempts: number; rateLimit?: RateLimit } {
  return answer.ok ? answer.value : answer.error;
}

/** A manifest as the registry served it: bytes and descriptor, not parsed (manifest.ts parses). */
export interface FetchedManifest {
  descriptor: Descriptor;
  body: Buffer;
  rateLimit?: RateLimit;
}

/** GET a manifest's bytes or throw (a 404 too): `RegistryClient.getManifest`. Repo.getManifest parses. */
export async function getManifest(
  transport: RegistryTransport,
  ref: ManifestRef,
  opts: Omit<ManifestRequestOptions, 'method'> = {},
): Promise<FetchedManifest> {
  const answer = await fetchManifest(transport, ref, { ...opts, method: 'GET' });
  if (!answer.ok) throw answerError(answer.error, `${formatRef(ref)}: `);
  const out: FetchedManifest = {
    descriptor: answer.value.descriptor,
    body: answer.value.body ?? Buffer.alloc(0),
  };
  if (answer.value.rateLimit) out.rateLimit = answer.value.rateLimit;
  return out;
}

/**
 * DELETE a manifest by tag or digest (OCI 1.1 allows tags; some registries only digests, field
 * notes #636). Resolves on 200/202; throws a RegistryError with the status otherwise.
 */
export async function deleteManifest(
  transport: RegistryTransport,
  ref: ManifestRef,
  opts: Omit<ManifestRequestOptions, 'method' | 'maxBytes'> = {},
): Promise<void> {
  const res = await transport.request(ref.registry, {
    ...pickContext(opts),
    method: 'DELETE',
    path: manifestPath(ref),
    scopes: opts.scopes ?? [{ repository: ref.repository, actions: ['pull', 'delete'] }],
    credential: opts.credential,
  });
  const text = await readCapped(res, 64 * 1024).catch(() => '');
  if (res.status === 200 || res.status === 202) return;
  const rateLimit = parseRateLimit(res.headers);
  throw new RegistryError(
    'http',
    `DELETE ${redact(new URL(res.url))}: ${statusLine(res.status)}${errorDetail(text)}`,
    {
      status: res.status,
      ...(rateLimit ? { rateLimit } : {}),
    },
  );
}

async function readBytes(res: RegistryResponse, max: number): Promise<Buffer> {
  const declared = Number(header(res.headers, 'content-length') ?? Number.NaN);
  if (Number.isFinite(declared) && declared > max) {
    await res.body.dump().catch(() => {});
    throw new RegistryError('protocol', `the manifest is ${declared} bytes, over the ${max}-byte limit`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of res.body) {
    const b = chunk as Buffer;
    total += b.length;
    if (total > max) {
      res.body.destroy();
      throw new RegistryError('protocol', `the manifest is over the ${max}-byte limit`);
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

async function readCapped(res: RegistryResponse, max: number): Promise<string> {
  return (await readBytes(res, max).catch(async () => Buffer.alloc(0))).toString('utf8');
}
