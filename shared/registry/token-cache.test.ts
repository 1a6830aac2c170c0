import assert from 'node:assert/strict';
import { test } from 'node:test';
import { raceSignal, SingleFlight } from '../single-flight.ts';
import { TokenCache, tokenExpiry } from './token-cache.ts';

test('64 concurrent requests for one key cost one fetch', async () => {
  const cache = new TokenCache();
  let fetches = 0;
  const fetch = async () => {
    fetches++;
    await new Promise((r) => setTimeout(r, 5));
    return { token: 't1', lifetimeMs: 300_000 };
  };
  const tokens = await Promise.all(Array.from({ length: 64 }, () => cache.getOrFetch('k', fetch)));
  assert.equal(fetches, 1);
  assert.ok(tokens.every((t) => t === 't1'));
  assert.equal(await cache.getOrFetch('k', fetch), 't1');
  assert.equal(fetches, 1);
});

test('a token is refreshed after 90 % of its expires_in', async () => {
  let now = 1_000_000;
  const cache = new TokenCache({ now: () => now });
  let n = 0;
  const fetch = async () => ({ token: `t${++n}`, lifetimeMs: 300_000 });
  assert.equal(await cache.getOrFetch('k', fetch), 't1');
  now += 269_000;
  assert.equal(await cache.getOrFetch('k', fetch), 't1');
  now += 2_000;
  assert.equal(await cache.getOrFetch('k', fetch), 't2');
  assert.equal(tokenExpiry(0, 60_000), 54_000);
});

test('keys are independent: another scope or credential fetches its own token', async () => {
  const cache = new TokenCache();
  const fetch = (t: string) => async () => ({ token: t, lifetimeMs: 60_000 });
  assert.equal(await cache.getOrFetch('reg|repository:a:pull|anonymous', fetch('a')), 'a');
  assert.equal(await cache.getOrFetch('reg|repository:b:pull|anonymous', fetch('b')), 'b');
  assert.equal(cache.size, 2);
});

test('invalidate drops only the refused token, not a newer one', async () => {
  const cache = new TokenCache();
  await cache.getOrFetch('k', async () => ({ token: 'old', lifetimeMs: 60_000 }));
  cache.invalidate('k', 'old');
  assert.equal(cache.get('k'), undefined);
  await cache.getOrFetch('k', async () => ({ token: 'new', lifetimeMs: 60_000 }));
  cache.invalidate('k', 'old');
  assert.equal(cache.get('k'), 'new');
});

test('a failed fetch is not cached: the next caller tries again', async () => {
  const cache = new TokenCache();
  await assert.rejects(
    cache.getOrFetch('k', async () => {
      throw new Error('refused');
    }),
    /refused/,
  );
  assert.equal(await cache.getOrFetch('k', async () => ({ token: 'ok', lifetimeMs: 60_000 })), 'ok');
});

test('the cache is bounded: the oldest entry goes first', async () => {
  const cache = new TokenCache({ capacity: 2 });
  for (const k of ['a', 'b', 'c']) await cache.getOrFetch(k, async () => ({ token: k, lifetimeMs: 60_000 }));
  assert.equal(cache.size, 2);
  assert.equal(cache.get('a'), undefined);
  assert.equal(cache.get('c'), 'c');
});

test('a caller that gives up stops waiting; the shared work still completes for the others', async () => {
  const sf = new SingleFlight<string>();
  let release!: (v: string) => void;
  const shared = sf.do('k', () => new Promise<string>((r) => (release = r)));
  const ac = new AbortController();
  const impatient = raceSignal(
    sf.do('k', () => Promise.resolve('never')),
    ac.signal,
  );
  ac.abort(new Error('gave up'));
  await assert.rejects(impatient, /gave up/);
  release('done');
  assert.equal(await shared, 'done');
  assert.equal(sf.size, 0);
});
