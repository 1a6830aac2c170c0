// The registry operations on one repository (manifests, blobs, uploads with resumable sessions
// and mounts, paginated tags, referrers), over the one transport the probe uses: auth, tokens,
// TLS and retries are the transport's, and nothing here knows a password. The copy engine copies
// with it, reconcile lists tags and writes claims, the monitor shares quota records. Each method
// is one distribution-API exchange with its answer checked and turned into data or a
// RegistryError whose message names the method, URL and the registry's error code.
import { Readable } from 'node:stream';
import type { Scope, ScopeAction } from './challenge.ts';
import { RegistryError } from './errors.ts';
import { type Descriptor, type Manifest, parseManifest } from './manifest.ts';
import { answerError, fetchManifest, type ManifestFound } from './manifest-request.ts';
import { OCI_INDEX } from './media-types.ts';
import { parseRateLimit } from './outcome.ts';
import {
  blobPath,
  type ManifestRef,
  manifestPath,
  type RepositoryRef,
  referrersPath,
  tagsPath,
  uploadPath,
} from './reference.ts';
import {
  type BasicCredential,
  errorDetail,
  type HttpMethod,
  header,
  type RegistryResponse,
  type RegistryTransport,
  redact,
  statusLine,
} from './transport.ts';

export interface RepoOptions {
  registry: string;
  repository: string;
  credential?: BasicCredential | undefined;
  /** Every request of this repository asks for these scopes, so one token serves them all. */
  scopes: readonly Scope[];
  signal?: AbortSignal | undefined;
}

export type UploadStart = { mounted: true } | { mounted: false; location: string };

/** Counts one exchange by kind: `manifest`, `blob`, `upload`, `tags`, `referrers`. */
export type RequestCounter = (kind: string) => void;

export class Repo {
  readonly registry: string;
  readonly repository: string;
  readonly #transport: RegistryTransport;
  readonly #opts: RepoOptions;
  readonly #count: RequestCounter;

  constructor(transport: RegistryTransport, opts: RepoOptions, count: RequestCounter = () => {}) {
    this.#transport = transport;
    this.#opts = opts;
    this.registry = opts.registry;
    this.repository = opts.repository;
    this.#count = count;
  }

  get credential(): BasicCredential | undefined {
    return this.#opts.credential;
  }

  /** This repository with another credential (§2.8 step 4: credentials are tried in turn). */
  withCredential(credential: BasicCredential | undefined): Repo {
    return new Repo(this.#transport, { ...this.#opts, credential }, this.#count);
  }

  #ref(reference: string): ManifestRef {
    // A digest has a colon, a tag never does (`sha256-….sig` is a tag).
    return reference.includes(':')
      ? { registry: this.registry, repository: this.repository, digest: reference }
      : { registry: this.registry, repository: this.repository, tag: reference };
  }

  async #request(
    kind: string,
    method: HttpMethod,
    path: string,
    extra: { headers?: Record<string, string>; body?: Uint8Array | Readable | null; retry?: boolean } = {},
  ): Promise<RegistryResponse> {
    this.#count(kind);
    return await this.#transport.request(this.registry, {
      method,
      path,
      scopes: this.#opts.scopes,
      credential: this.#opts.credential,
      ...(this.#opts.signal ? { signal: this.#opts.signal } : {}),
      ...extra,
    });
  }

  /** HEAD or GET through the probe's manifest reader: undefined on 404, a RegistryError on any other failure. */
  async #fetchManifest(reference: string, method: 'HEAD' | 'GET'): Promise<ManifestFound | undefined> {
    this.#count('manifest');
    const answer = await fetchManifest(this.#transport, this.#ref(reference), {
      method,
      credential: this.#opts.credential,
      scopes: this.#opts.scopes,
      ...(this.#opts.signal ? { signal: this.#opts.signal } : {}),
    });
    if (answer.ok) return answer.value;
    if (answer.error.status === 404) return undefined;
    throw answerError(answer.error);
  }

  /** GET a manifest by tag or digest; undefined on 404. Digest requests are verified by the shared reader. */
  async getManifest(reference: string): Promise<Manifest | undefined> {
    const answer = await this.#fetchManifest(reference, 'GET');
    if (!answer) return undefined;
    const parsed = parseManifest(answer.body ?? new Uint8Array(), answer.descriptor.mediaType);
    if (!parsed.ok) {
      throw new RegistryError(
        'protocol',
        `${this.registry}/${this.repository}@${reference}: ${parsed.error}`,
      );
    }
    return parsed.value;
  }

  /** HEAD a manifest: its digest, or undefined on 404. */
  async headManifest(reference: string): Promise<{ digest: string; mediaType: string } | undefined> {
    const answer = await this.#fetchManifest(reference, 'HEAD');
    return answer && { digest: answer.descriptor.digest, mediaType: answer.descriptor.mediaType };
  }

  /**
   * PUT manifest bytes under a tag or digest. Returns the digest the registry computed and whether
   * it indexed the manifest's subject for the referrers API (the `OCI-Subject` header).
   */
  async putManifest(
    reference: string,
    bytes: Uint8Array,
    mediaType: string,
  ): Promise<{ digest: string | undefined; subjectIndexed: boolean }> {
    const path = manifestPath(this.#ref(reference));
    const res = await this.#request('manifest', 'PUT', path, {
      headers: { 'content-type': mediaType, 'content-length': String(bytes.length) },
      body: bytes,
    });
    if (res.status !== 201 && res.status !== 200) throw await this.#fail('PUT', res);
    await res.body.dump();
    return {
      digest: header(res.headers, 'docker-content-digest'),
      subjectIndexed: header(res.headers, 'oci-subject') !== undefined,
    };
  }

  async hasBlob(digest: string): Promise<boolean> {
    const res = await this.#request('blob', 'HEAD', blobPath(this, digest));
    await res.body.dump();
    if (res.status === 200) return true;
    if (res.status === 404) return false;
    throw await this.#fail('HEAD', res);
  }

  /** A blob's bytes from `offset`, streamed; a Range request when offset > 0 (checked: 206 from that byte). */
  async openBlob(digest: string, offset: number): Promise<AsyncIterable<Uint8Array>> {
    const res = await this.#request('blob', 'GET', blobPath(this, digest), {
      headers: offset > 0 ? { range: `bytes=${offset}-` } : {},
    });
    if (offset > 0) {
      const range = header(res.headers, 'content-range');
      const start = range ? /^bytes (\d+)-/.exec(range)?.[1] : undefined;
      if (res.status === 200) {
        // No range support: skip what we have, reading it again (still streaming, nothing kept).
        return skipBytes(res.body, offset);
      }
      if (res.status !== 206 || Number(start) !== offset) {
        if (res.status === 206) await res.body.dump();
        throw res.status === 206
          ? new RegistryError(
              'protocol',
              `GET ${redact(new URL(res.url))}: asked for byte ${offset}, got ${range}`,
            )
          : await this.#fail('GET', res);
      }
      return res.body;
    }
    if (res.status !== 200) throw await this.#fail('GET', res);
    return res.body;
  }

  /** Small blobs only (image configs): read into memory, with a cap. */
  async readBlob(digest: string, max = 16 * 1024 * 1024): Promise<Uint8Array> {
    const parts: Buffer[] = [];
    let total = 0;
    for await (const chunk of await this.openBlob(digest, 0)) {
      total += chunk.length;
      if (total > max) throw new RegistryError('protocol', `blob ${digest} is over ${max} bytes`);
      parts.push(Buffer.from(chunk));
    }
    return Buffer.concat(parts);
  }

  /** POST an upload; with `mount`, ask the registry to link the blob from another repository (201). */
  async startUpload(mount?: { digest: string; from: string }): Promise<UploadStart> {
    const res = await this.#request('upload', 'POST', uploadPath(this, mount), {
      headers: { 'content-length': '0' },
    });
    await res.body.dump();
    if (mount && res.status === 201) return { mounted: true };
    const location = header(res.headers, 'location');
    if (res.status !== 202 || !location) throw await this.#fail('POST', res);
    return { mounted: false, location: new URL(location, res.url).toString() };
  }

  /**
   * How many bytes an upload session holds (GET on its location, the `Range: 0-N` header), with the
   * session's current location; undefined when the registry no longer knows the session (expired,
   * cancelled, or a stale location it refuses).
   */
  async uploadStatus(
    location: string,
    expected = 0,
  ): Promise<{ offset: number; location: string } | undefined> {
    const res = await this.#request('upload', 'GET', location);
    await res.body.dump();
    if (res.status !== 204 && res.status !== 200) return undefined;
    const next = header(res.headers, 'location');
    return {
      offset: heldBytes(header(res.headers, 'range'), expected),
      location: next ? new URL(next, res.url).toString() : location,
    };
  }

  /** PATCH one chunk (`Content-Range: start-end`), streamed; returns the next location and offset. */
  async patchChunk(
    location: string,
    start: number,
    length: number,
    body: AsyncIterable<Uint8Array>,
  ): Promise<{ location: string; offset: number }> {
    const res = await this.#request('upload', 'PATCH', location, {
      headers: {
        'content-type': 'application/octet-stream',
        'content-length': String(length),
        'content-range': `${start}-${start + length - 1}`,
      },
      body: Readable.from(body, { objectMode: false }),
      retry: false,
    });
    if (res.status !== 202) throw await this.#fail('PATCH', res);
    await res.body.dump();
    const next = header(res.headers, 'location');
    const offset = heldBytes(header(res.headers, 'range'), start + length);
    return { location: next ? new URL(next, res.url).toString() : location, offset };
  }

  /** PUT `?digest=`: the registry checks the digest of everything uploaded and links the blob. */
  async completeUpload(location: string, digest: string): Promise<void> {
    const url = new URL(location);
    url.searchParams.set('digest', digest);
    const res = await this.#request('upload', 'PUT', url.toString(), {
      headers: { 'content-length': '0', 'content-type': 'application/octet-stream' },
      body: new Uint8Array(),
    });
    if (res.status !== 201 && res.status !== 204) throw await this.#fail('PUT', res);
    await res.body.dump();
  }

  /** Abandons an upload session (best effort: the registry purges stale ones anyway). */
  async cancelUpload(location: string): Promise<void> {
    const res = await this.#request('upload', 'DELETE', location).catch(() => undefined);
    await res?.body.dump();
  }

  /** Every tag, following `Link` pagination. */
  async listTags(): Promise<string[]> {
    const tags: string[] = [];
    let path: string | undefined = tagsPath(this);
    for (let page = 0; path !== undefined && page < 1000; page++) {
      const res = await this.#request('tags', 'GET', path);
      if (res.status === 404) {
        await res.body.dump();
        return tags;
      }
      if (res.status !== 200) throw await this.#fail('GET', res);
      const doc = (await res.body.json()) as { tags?: string[] | null };
      tags.push(...(doc.tags ?? []));
      const link = header(res.headers, 'link');
      const next = link ? /<([^>]+)>;\s*rel="?next"?/.exec(link)?.[1] : undefined;
      path = next ? new URL(next, res.url).toString() : undefined;
    }
    return tags;
  }

  /** OCI 1.1 referrers of a digest; 'unsupported' when the registry has no referrers API (404). */
  async referrers(digest: string): Promise<Descriptor[] | 'unsupported'> {
    const res = await this.#request('referrers', 'GET', referrersPath(this, digest), {
      headers: { accept: OCI_INDEX },
    });
    if (res.status === 404 || res.status === 405 || res.status === 400) {
      await res.body.dump();
      return 'unsupported';
    }
    if (res.status !== 200) throw await this.#fail('GET', res);
    const parsed = parseManifest(new Uint8Array(await res.body.arrayBuffer()), OCI_INDEX);
    if (!parsed.ok || parsed.value.kind !== 'index') return 'unsupported';
    return parsed.value.manifests;
  }

  async #fail(method: string, res: RegistryResponse): Promise<RegistryError> {
    const text = method === 'HEAD' ? '' : await res.body.text().catch(() => '');
    if (method === 'HEAD') await res.body.dump().catch(() => {});
    const rateLimit = parseRateLimit(res.headers);
    return new RegistryError(
      'http',
      `${method} ${redact(new URL(res.url))}: ${statusLine(res.status)}${errorDetail(text)}`,
      {
        status: res.status,
        ...(rateLimit ? { rateLimit } : {}),
      },
    );
  }
}

/**
 * One repository of a client's registries with one credential and one set of scope actions, and a
 * deadline over all its requests: how reconcile and the monitor open a repository (the copy builds
 * its Repos itself, with a request counter and the copy's own signal).
 */
export function repoOf(
  client: { readonly transport: RegistryTransport },
  ref: RepositoryRef,
  credential: BasicCredential | undefined,
  actions: ScopeAction[],
  timeoutMs: number,
): Repo {
  return new Repo(client.transport, {
    registry: ref.registry,
    repository: ref.repository,
    credential,
    scopes: [{ repository: ref.repository, actions }],
    signal: AbortSignal.timeout(timeoutMs),
  });
}

/**
 * Bytes an upload holds from its `Range: 0-N` header; `expected` when the header is missing or
 * ambiguous. distribution answers `0-0` both for an empty session and for one byte: the caller's
 * expectation decides, and a wrong guess is caught by the registry's digest check at the end.
 */
export function heldBytes(range: string | undefined, expected = 0): number {
  if (range === undefined) return expected;
  const m = /^(?:bytes=)?0-(\d+)$/.exec(range.trim());
  if (!m) return expected;
  const end = Number(m[1]);
  return end === 0 ? (expected === 1 ? 1 : 0) : end + 1;
}

async function* skipBytes(body: AsyncIterable<Uint8Array>, n: number): AsyncGenerator<Uint8Array> {
  let left = n;
  for await (const chunk of body) {
    if (left >= chunk.length) {
      left -= chunk.length;
      continue;
    }
    yield left > 0 ? chunk.subarray(left) : chunk;
    left = 0;
  }
}
