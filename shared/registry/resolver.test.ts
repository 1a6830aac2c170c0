import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CachingResolver, candidates, LookupError, parseHosts, parseSearch } from './resolver.ts';

// A DNS server on 127.0.0.1 made for the test: answers `*.ok.test` with an A record (TTL 60),
// says NXDOMAIN for `*.nx.test`, and never answers anything else (a resolver that hangs).
interface Dns {
  server: string;
  /** Names not answered from now on. */
  muted: Set<string>;
  queries: string[];
  close(): void;
}

function qname(msg: Buffer): { name: string; end: number } {
  const labels: string[] = [];
  let i = 12;
  while (msg[i]! > 0) {
    labels.push(msg.subarray(i + 1, i + 1 + msg[i]!).toString());
    i += msg[i]! + 1;
  }
  return { name: labels.join('.'), end: i + 5 };
}

async function startDns(): Promise<Dns> {
  const sock: Socket = createSocket('udp4');
  const queries: string[] = [];
  const muted = new Set<string>();
  sock.on('message', (msg, rinfo) => {
    const { name, end } = qname(msg);
    const type = msg.readUInt16BE(end - 4);
    queries.push(`${type === 1 ? 'A' : type === 28 ? 'AAAA' : type} ${name}`);
    if (muted.has(name)) return;
    const question = msg.subarray(12, end);
    const header = Buffer.alloc(12);
    msg.copy(header, 0, 0, 2);
    if (name.endsWith('.nx.test')) {
      header.writeUInt16BE(0x8183, 2); // response, RD, RA, NXDOMAIN
      header.writeUInt16BE(1, 4);
      sock.send(Buffer.concat([header, question]), rinfo.port, rinfo.address);
    } else if (name.endsWith('.ok.test')) {
      header.writeUInt16BE(0x8180, 2);
      header.writeUInt16BE(1, 4);
      const answers = type === 1 ? 1 : 0;
      header.writeUInt16BE(answers, 6);
      const rr = Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 9]);
      sock.send(Buffer.concat([header, question, ...(answers ? [rr] : [])]), rinfo.port, rinfo.address);
    }
    // Anything else: silence.
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  return { server: `127.0.0.1:${sock.address().port}`, queries, muted, close: () => sock.close() };
}

let dns: Dns;
let dir: string;
before(async () => {
  dns = await startDns();
  dir = mkdtempSync(join(tmpdir(), 'resolver-test-'));
});
after(() => dns.close());

function resolver(extra: Partial<ConstructorParameters<typeof CachingResolver>[0]> = {}): CachingResolver {
  const hostsFile = join(dir, `hosts-${Math.random()}`);
  writeFileSync(hostsFile, '127.0.0.1 localhost\n10.1.2.3 registry.internal Registry.Alias # comment\n');
  return new CachingResolver({
    servers: [dns.server],
    hostsFile,
    resolvConf: join(dir, 'absent'),
    timeoutMs: 200,
    tries: 1,
    lookupTimeoutMs: 1000,
    ...extra,
  });
}

describe('pure parts', () => {
  test('parseHosts: names lower-cased, comments and bad lines ignored', () => {
    const h = parseHosts(
      '# x\n127.0.0.1 localhost vm\n::1 localhost\nnot-an-ip foo\n10.0.0.1 A.Example. # c\n',
    );
    assert.deepEqual(h.get('localhost'), [
      { address: '127.0.0.1', family: 4 },
      { address: '::1', family: 6 },
    ]);
    assert.deepEqual(h.get('a.example'), [{ address: '10.0.0.1', family: 4 }]);
    assert.equal(h.get('foo'), undefined);
  });

  test('parseSearch and candidates: a dotted name first as is, a dotless one with suffixes first', () => {
    const search = parseSearch(
      'nameserver 10.0.0.10\nsearch ns.svc.cluster.local svc.cluster.local\noptions ndots:5\n',
    );
    assert.deepEqual(search, ['ns.svc.cluster.local', 'svc.cluster.local']);
    assert.deepEqual(candidates('quay.io', search), [
      'quay.io',
      'quay.io.ns.svc.cluster.local',
      'quay.io.svc.cluster.local',
    ]);
    assert.deepEqual(candidates('registry', search), [
      'registry.ns.svc.cluster.local',
      'registry.svc.cluster.local',
      'registry',
    ]);
    assert.deepEqual(candidates('quay.io.', search), ['quay.io']);
  });
});

describe('CachingResolver', () => {
  test('IP literals, /etc/hosts and localhost need no DNS query', async () => {
    const r = resolver();
    assert.deepEqual(await r.resolve('10.9.8.7'), [{ address: '10.9.8.7', family: 4 }]);
    assert.deepEqual(await r.resolve('::1'), [{ address: '::1', family: 6 }]);
    assert.deepEqual(await r.resolve('REGISTRY.internal'), [{ address: '10.1.2.3', family: 4 }]);
    assert.deepEqual(await r.resolve('registry.alias'), [{ address: '10.1.2.3', family: 4 }]);
    assert.equal((await r.resolve('localhost'))[0]?.address, '127.0.0.1');
    assert.equal((await r.resolve('x.localhost'))[0]?.address, '127.0.0.1');
    assert.equal(r.queries, 0);
  });

  test('/etc/hosts is read again when it changes', async () => {
    const hostsFile = join(dir, 'hosts-changing');
    writeFileSync(hostsFile, '10.0.0.1 moving.internal\n');
    let t = 1_000_000;
    const r = resolver({ hostsFile, now: () => t });
    assert.equal((await r.resolve('moving.internal'))[0]?.address, '10.0.0.1');
    writeFileSync(hostsFile, '10.0.0.2 moving.internal\n');
    utimesSync(hostsFile, new Date(), new Date(Date.now() + 5000));
    t += 10_000;
    assert.equal((await r.resolve('moving.internal'))[0]?.address, '10.0.0.2');
  });

  test('an answer is cached for its TTL; concurrent lookups share one query', async () => {
    let t = 1_000_000;
    const r = resolver({ now: () => t });
    const [a, b] = await Promise.all([r.resolve('one.ok.test'), r.resolve('one.ok.test')]);
    assert.deepEqual(a, [{ address: '127.0.0.9', family: 4 }]);
    assert.deepEqual(b, a);
    assert.equal(r.queries, 1);
    t += 59_000;
    await r.resolve('one.ok.test');
    assert.equal(r.queries, 1, 'within the 60 s TTL: from the cache');
    t += 2_000;
    await r.resolve('one.ok.test');
    assert.equal(r.queries, 2, 'after the TTL: asked again');
  });

  test('NXDOMAIN is an ENOTFOUND error, remembered briefly', async () => {
    let t = 1_000_000;
    const r = resolver({ now: () => t, negativeTtlMs: 5000 });
    await assert.rejects(r.resolve('gone.nx.test'), (e: LookupError) => e.code === 'ENOTFOUND');
    await assert.rejects(r.resolve('gone.nx.test'), (e: LookupError) => e.code === 'ENOTFOUND');
    assert.equal(r.queries, 1);
    t += 6000;
    await assert.rejects(r.resolve('gone.nx.test'));
    assert.equal(r.queries, 2);
  });

  test('a server that never answers: known names still resolve, at once, while a flood of unknown ones fails', async () => {
    let t = 1_000_000;
    const r = resolver({ now: () => t });
    const known = await r.resolve('two.ok.test');
    t += 120_000; // two.ok.test's TTL (60 s) has passed: it needs a refresh
    const silent = Array.from({ length: 200 }, (_, i) => r.resolve(`h${i}.silent.test`).catch((e) => e));
    // While the flood hangs, the expired known name is answered from its last answer, and
    // /etc/hosts still works.
    assert.deepEqual(await r.resolve('two.ok.test'), known);
    assert.equal((await r.resolve('localhost'))[0]?.address, '127.0.0.1');
    const errors = (await Promise.all(silent)) as LookupError[];
    assert.ok(errors.every((e) => e instanceof LookupError && e.code === 'EAI_AGAIN'));
    assert.ok(errors.filter((e) => /too many DNS lookups in flight/.test(e.message)).length >= 200 - 64);
  });

  test('past maxInFlight distinct names, a new name fails at once instead of queueing', async () => {
    const r = resolver({ maxInFlight: 2 });
    const a = r.resolve('a.silent.test').catch((e) => e);
    const b = r.resolve('b.silent.test').catch((e) => e);
    await assert.rejects(r.resolve('c.silent.test'), /too many DNS lookups in flight/);
    await Promise.all([a, b]);
  });

  test('an expired answer is served while refreshed, and still when the refresh gets no reply', async () => {
    let t = 1_000_000;
    const r = resolver({ now: () => t });
    const known = await r.resolve('three.ok.test');
    dns.muted.add('three.ok.test');
    t += 120_000;
    assert.deepEqual(await r.resolve('three.ok.test'), known);
    assert.equal(r.queries, 2, 'a refresh was started');
    await new Promise((res) => setTimeout(res, 1500)); // the refresh times out (budget 1 s)
    assert.deepEqual(await r.resolve('three.ok.test'), known);
    assert.equal(r.queries, 2, 'remembered as failing for a while: not asked again');
  });

  test('the lookup function speaks dns.lookup: one address, or all of them', async () => {
    const r = resolver();
    const one = await new Promise<[string, number]>((res, rej) =>
      r.lookup('registry.internal', { family: 0 }, (e, a, f) =>
        e ? rej(e) : res([a as string, f as number]),
      ),
    );
    assert.deepEqual(one, ['10.1.2.3', 4]);
    const all = await new Promise<unknown>((res, rej) =>
      r.lookup('localhost', { all: true }, (e, a) => (e ? rej(e) : res(a))),
    );
    assert.ok(Array.isArray(all) && all.length >= 1);
    const err = await new Promise<NodeJS.ErrnoException | null>((res) =>
      r.lookup('x.nx.test', {}, (e) => res(e)),
    );
    assert.equal(err?.code, 'ENOTFOUND');
  });
});
