// The registry client every function holds one of (ARCHITECTURE "Shared code": one registry
// client). One instance per process: its transport keeps the connection pools, ping results and
// token cache that make the 2nd…Nth probe of a registry cost one request.
import type { ImageReference } from '../image/reference.ts';
import {
  deleteManifest,
  type FetchedManifest,
  getManifest,
  type ManifestRequestOptions,
} from './manifest-request.ts';
import { type ProbeOptions, type ProbeResult, probe } from './probe.ts';
import { type ManifestRef, toManifestRef } from './reference.ts';
import { RegistryTransport, type TransportOptions } from './transport.ts';

export class RegistryClient {
  readonly transport: RegistryTransport;

  constructor(opts: TransportOptions = {}) {
    this.transport = new RegistryTransport(opts);
  }

  /** §4.7: never throws; the outcome says why an image is not available. */
  probe(reference: string | ImageReference | ManifestRef, opts: ProbeOptions = {}): Promise<ProbeResult> {
    return probe(this.transport, reference, opts);
  }

  /** The manifest bytes and descriptor, or a RegistryError (throws on an invalid reference too). */
  getManifest(
    reference: string | ImageReference | ManifestRef,
    opts: Omit<ManifestRequestOptions, 'method'> = {},
  ): Promise<FetchedManifest> {
    return getManifest(this.transport, toManifestRef(reference), opts);
  }

  deleteManifest(
    reference: string | ImageReference | ManifestRef,
    opts: Omit<ManifestRequestOptions, 'method' | 'maxBytes'> = {},
  ): Promise<void> {
    return deleteManifest(this.transport, toManifestRef(reference), opts);
  }

  close(): Promise<void> {
    return this.transport.close();
  }
}
