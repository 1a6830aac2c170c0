// A Docker registry token server (the distribution "token" auth contract) for the bearer-auth
// registry: Basic credentials in, an RS256 JWT out, signed by a key whose certificate the registry
// trusts (rootcertbundle) and announced in the JWT's x5c header. It counts the tokens it issues so
// benchmarks can show that clients cache them per (registry, scope).
import { createSign, randomUUID, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { listenLocal } from './proc.ts';

export interface TokenUser {
  password: string;
  /** Actions granted on every repository; a pull-only user models a pull secret. */
  actions: string[];
}

export interface TokenServer {
  url: string;
  server: Server;
  stats: { issued: number; refused: number; byScope: Map<string, number> };
  close(): Promise<void>;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

export async function startTokenServer(opts: {
  certFile: string;
  keyFile: string;
  issuer: string;
  service: string;
  users: Record<string, TokenUser>;
  port?: number;
}): Promise<TokenServer> {
  const [certPem, keyPem] = await Promise.all([
    readFile(opts.certFile, 'utf8'),
    readFile(opts.keyFile, 'utf8'),
  ]);
  const x5c = new X509Certificate(certPem).raw.toString('base64');
  const stats = { issued: 0, refused: 0, byScope: new Map<string, number>() };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/stats') {
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          issued: stats.issued,
          refused: stats.refused,
          byScope: Object.fromEntries(stats.byScope),
        }),
      );
      return;
    }
    if (url.pathname !== '/token') {
      res.statusCode = 404;
      res.end();
      return;
    }
    const auth = req.headers.authorization ?? '';
    let user: string | undefined;
    if (auth.startsWith('Basic ')) {
      const [u, ...rest] = Buffer.from(auth.slice(6), 'base64').toString().split(':');
      const entry = u === undefined ? undefined : opts.users[u];
      if (entry && entry.password === rest.join(':')) user = u;
      else {
        stats.refused++;
        res.statusCode = 401;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'invalid username/password' }] }));
        return;
      }
    }
    // Anonymous callers get a token with no access, like Docker Hub: the registry then answers 401.
    const granted = user ? opts.users[user]!.actions : [];
    const access = url.searchParams.getAll('scope').flatMap((scope) => {
      const [type, name, actions] = scope.split(':');
      if (!type || !name || actions === undefined) return [];
      stats.byScope.set(scope, (stats.byScope.get(scope) ?? 0) + 1);
      const want = actions.split(',');
      return [{ type, name, actions: want.filter((a) => granted.includes(a) || granted.includes('*')) }];
    });
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'RS256', x5c: [x5c] };
    const claims = {
      iss: opts.issuer,
      sub: user ?? '',
      aud: url.searchParams.get('service') ?? opts.service,
      iat: now,
      nbf: now - 5,
      exp: now + 300,
      jti: randomUUID(),
      access,
    };
    const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const signature = createSign('RSA-SHA256').update(signingInput).sign(keyPem);
    const token = `${signingInput}.${b64url(signature)}`;
    stats.issued++;
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({ token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() }),
    );
  });
  const port = await listenLocal(server, 'token server', opts.port ?? 0);
  return {
    url: `http://127.0.0.1:${port}/token`,
    server,
    stats,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
