// A deadline on every Kubernetes API call made through the generated clients (Kube.core, .custom,
// .events). client-node 2.x has none: an API server (or a proxy in front of it) that accepts the
// connection and never answers hung reconcile, the monitor's tick and the copy for good. The
// generated clients send through a replaceable HTTP library; this one adds an abort signal to each
// request and, when it fires, fails the call with an error naming the operation. Watches do not go
// through it (they are long by design; watch-cache.ts restarts them).
import {
  type HttpLibrary,
  IsomorphicFetchHttpLibrary,
  Observable,
  type RequestContext,
  type ResponseContext,
} from '@kubernetes/client-node';

/** Default deadline of one API call, answer body included. */
export const DEFAULT_KUBE_API_TIMEOUT_MS = 30_000;

export class KubeTimeoutError extends Error {
  override name = 'KubeTimeoutError';
}

/** `KUBE_API_TIMEOUT_MS` when it is a number ≥ 0 (0: no deadline), else the default. */
export function kubeApiTimeoutFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env['KUBE_API_TIMEOUT_MS'];
  if (raw === undefined || raw.trim() === '') return DEFAULT_KUBE_API_TIMEOUT_MS;
  const n = Number(raw);
  return Number.isFinite(n) && n >= 0 ? n : DEFAULT_KUBE_API_TIMEOUT_MS;
}

/** `GET /api/v1/pods` (no query: label selectors make it long, and it may be any size). */
function operation(req: RequestContext): string {
  let path = req.getUrl();
  try {
    path = new URL(path).pathname;
  } catch {
    // Not absolute: keep it as given.
  }
  return `${req.getHttpMethod()} ${path}`;
}

export function timeoutHttpLibrary(
  timeoutMs: number,
  inner: HttpLibrary = new IsomorphicFetchHttpLibrary(),
): HttpLibrary {
  return {
    send(req: RequestContext): Observable<ResponseContext> {
      if (!(timeoutMs > 0)) return inner.send(req);
      const ac = new AbortController();
      const what = operation(req);
      const timer = setTimeout(() => {
        ac.abort(
          new KubeTimeoutError(
            `Kubernetes API ${what}: no answer within ${timeoutMs} ms (KUBE_API_TIMEOUT_MS); is the API server reachable and healthy?`,
          ),
        );
      }, timeoutMs);
      timer.unref();
      const own = req.getSignal();
      req.setSignal(own ? AbortSignal.any([own, ac.signal]) : ac.signal);
      const done = () => clearTimeout(timer);
      // Our reason, not undici's generic AbortError, whichever layer noticed the abort.
      const explain = (err: unknown): never => {
        done();
        throw ac.signal.aborted ? ac.signal.reason : err;
      };
      const sent = inner
        .send(req)
        .toPromise()
        .then((res) => {
          // The deadline covers the body too: the generated client reads it after the headers.
          const body = res.body;
          const finished = <T>(v: T): T => {
            done();
            return v;
          };
          res.body = {
            text: () => body.text().then(finished, explain),
            binary: () => body.binary().then(finished, explain),
            stream: () => body.stream(),
          };
          return res;
        }, explain);
      return new Observable(sent);
    },
  };
}
