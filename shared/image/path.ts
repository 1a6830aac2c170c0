// String helpers for building and comparing image locations. kuik builds every mirror and
// upstream reference with Go's `path.Join` and compares locations with `strings.HasPrefix`;
// `cleanJoin` is the former, `hasLocationPrefix` the latter with the boundary kuik forgot.
import { LruCache } from '../lru.ts';

/** Go's `path.Clean`: collapse `//`, drop `.`, resolve `..`, no trailing slash, "" → ".". */
export function cleanPath(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      // `/..` at the root is the root: dropped.
      continue;
    }
    out.push(seg);
  }
  const joined = out.join('/');
  if (rooted) return `/${joined}`;
  return joined === '' ? '.' : joined;
}

/**
 * Go's `path.Join` (POSIX semantics, §2.4): empty elements are ignored, the rest are joined with
 * `/` and cleaned; all-empty gives "". `cleanJoin('harbor.example.com', '/mirror/', 'library/nginx:1')`
 * is `harbor.example.com/mirror/library/nginx:1`. Note that `..` in a mirror path climbs over the
 * registry, exactly as in kuik.
 */
export function cleanJoin(...elems: readonly (string | undefined)[]): string {
  const parts = elems.filter((e): e is string => e !== undefined && e !== '');
  if (parts.length === 0) return '';
  // Every admission joins the same mirror prefixes and image paths again: remember the answers.
  const joined = parts.join('/');
  const hit = cleaned.get(joined);
  if (hit !== undefined) return hit;
  const out = cleanPath(joined);
  cleaned.set(joined, out);
  return out;
}

const cleaned = new LruCache<string, string>(8192);

/**
 * Whether `location` (an image reference or repository) lies under `prefix` (a registry, or a
 * registry plus repository path), at a component boundary.
 *
 * kuik used a plain string prefix, so `docker.io` also matched `docker.io2/...` and mirror
 * `reg/mirror` matched images of `reg/mirror2/...` (QUIRK fixed, docs/quirks.md). Accepted
 * boundaries after the prefix: end of string, `/`, and, only once the prefix includes a path
 * (a `/`), `:` or `@` for a tag or digest. A `:` right after a bare host would be a port, i.e. a
 * different registry (`localhost` is not `localhost:5000`). A prefix that already ends in `/`
 * carries its own boundary. The empty prefix matches nothing: an unset mirror location is not a
 * prefix of every image.
 */
export function hasLocationPrefix(location: string, prefix: string): boolean {
  if (prefix === '' || !location.startsWith(prefix)) return false;
  if (location.length === prefix.length || prefix.endsWith('/')) return true;
  const next = location[prefix.length];
  if (next === '/') return true;
  return (next === ':' || next === '@') && prefix.includes('/');
}
