// The `WWW-Authenticate` challenge a registry answers `/v2/` (or any request) with, and the token
// scopes we ask for. Pure: no I/O.
//
// Registries send `Bearer realm="…",service="…",scope="…"` (token auth, Docker Hub, Harbor, GHCR)
// or `Basic realm="…"` (htpasswd). RFC 7235 allows several challenges in one header and quoted
// strings with escapes; we parse that grammar rather than split on commas, because realms are
// URLs and scopes contain commas (`repository:x:pull,push`).

export interface Challenge {
  /** Lower-cased: `bearer`, `basic`, … */
  scheme: string;
  /** Parameter names lower-cased; values unquoted. */
  params: Record<string, string>;
}

type Lexeme = { t: 'token' | 'quoted'; v: string } | { t: '=' | ',' };

function lex(text: string): Lexeme[] {
  const out: Lexeme[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t') {
      i++;
    } else if (c === '=' || c === ',') {
      out.push({ t: c });
      i++;
    } else if (c === '"') {
      let v = '';
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\' && i + 1 < text.length) i++;
        v += text[i];
        i++;
      }
      i++;
      out.push({ t: 'quoted', v });
    } else {
      const start = i;
      while (i < text.length && !' \t=,"'.includes(text[i]!)) i++;
      out.push({ t: 'token', v: text.slice(start, i) });
    }
  }
  return out;
}

export function parseChallenges(header: string | string[] | undefined): Challenge[] {
  if (header === undefined) return [];
  const lx = lex(Array.isArray(header) ? header.join(', ') : header);
  const out: Challenge[] = [];
  const isParamAt = (k: number) => lx[k]?.t === 'token' && lx[k + 1]?.t === '=';
  let i = 0;
  while (i < lx.length) {
    const head = lx[i]!;
    if (head.t !== 'token') {
      i++; // stray comma or garbage between challenges
      continue;
    }
    const challenge: Challenge = { scheme: head.v.toLowerCase(), params: {} };
    out.push(challenge);
    i++;
    // `name=value` pairs separated by commas, until something that is not a parameter starts the
    // next challenge.
    while (isParamAt(i)) {
      const name = (lx[i] as { v: string }).v.toLowerCase();
      const value = lx[i + 2];
      if (value && (value.t === 'token' || value.t === 'quoted')) {
        challenge.params[name] = value.v;
        i += 3;
      } else {
        challenge.params[name] = '';
        i += 2;
      }
      if (lx[i]?.t === ',' && isParamAt(i + 1)) i++;
      else break;
    }
  }
  return out;
}

/** Bearer beats Basic: a registry that offers both wants tokens. */
export function pickChallenge(challenges: Challenge[]): Challenge | undefined {
  return challenges.find((c) => c.scheme === 'bearer') ?? challenges.find((c) => c.scheme === 'basic');
}

export type ScopeAction = 'pull' | 'push' | 'delete';

export interface Scope {
  repository: string;
  actions: readonly ScopeAction[];
}

const ACTION_ORDER: readonly ScopeAction[] = ['pull', 'push', 'delete'];

/** `repository:library/nginx:pull,push`, actions in a fixed order so equal scopes are equal strings. */
export function scopeString(scope: Scope): string {
  const actions = ACTION_ORDER.filter((a) => scope.actions.includes(a));
  return `repository:${scope.repository}:${actions.join(',')}`;
}

/** Scopes as the token cache and the token request see them: deduplicated and sorted. */
export function scopeStrings(scopes: readonly Scope[]): string[] {
  const merged = new Map<string, Set<ScopeAction>>();
  for (const s of scopes) {
    const set = merged.get(s.repository) ?? new Set<ScopeAction>();
    for (const a of s.actions) set.add(a);
    merged.set(s.repository, set);
  }
  return [...merged.entries()]
    .map(([repository, actions]) => scopeString({ repository, actions: [...actions] }))
    .sort();
}
