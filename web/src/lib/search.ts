// Search results (protocol section 6.5): the server marks matched words as byte ranges into the
// message's UTF-8 text; the client cuts the text into plain and marked pieces to render as text
// (never as markup). Pure.

export type Piece = { text: string; hit: boolean };

/** text cut at highlights (UTF-8 byte ranges, ascending); ranges outside the text are ignored. */
export function pieces(text: string, highlights: [number, number][]): Piece[] {
  const bytes = new TextEncoder().encode(text);
  const dec = new TextDecoder();
  const out: Piece[] = [];
  let at = 0;
  const push = (from: number, to: number, hit: boolean) => {
    if (to > from) out.push({ text: dec.decode(bytes.subarray(from, to)), hit });
  };
  for (const [b, e] of highlights) {
    if (!(Number.isInteger(b) && Number.isInteger(e)) || b < at || e <= b || e > bytes.length) continue;
    push(at, b, false);
    push(b, e, true);
    at = e;
  }
  push(at, bytes.length, false);
  return out;
}

/** The pieces around the first hit, cut to about max characters (for a one-line snippet). */
export function snippet(all: Piece[], max = 140): Piece[] {
  const first = all.findIndex((p) => p.hit);
  const out: Piece[] = [];
  let used = 0;
  for (let i = Math.max(0, first); i < all.length && used < max; i++) {
    const t = all[i].text.length + used > max ? all[i].text.slice(0, max - used) + '…' : all[i].text;
    out.push({ text: t, hit: all[i].hit });
    used += t.length;
  }
  if (first > 0) {
    const before = all[first - 1].text;
    out.unshift({ text: (before.length > 30 ? '…' + before.slice(-30) : before), hit: false });
  }
  return out;
}

// ---------------------------------------------------------------- writing a query

/** The from:/in: filter being typed at the caret (caret at the end of its token), or null. */
export function filterQuery(text: string, caret: number): { start: number; kind: 'from' | 'in'; prefix: string } | null {
  let start = caret;
  while (start > 0 && !/\s/.test(text[start - 1])) start--;
  const token = text.slice(start, caret);
  const m = /^(from|in):([@#]?)(.*)$/i.exec(token);
  if (!m || m[3].startsWith('"')) return null;
  return { start, kind: m[1].toLowerCase() as 'from' | 'in', prefix: m[3] };
}

export interface FilterCandidate {
  insert: string;
  label: string;
}

/** People (for from:) or conversations with a title (for in:) whose name starts with prefix
 *  (case-insensitive), sorted, at most limit; each with the filter text to insert. */
export function filterCompletions(
  kind: 'from' | 'in',
  prefix: string,
  people: readonly { username: string; shown: string }[],
  titles: readonly string[],
  limit = 8,
): FilterCandidate[] {
  const p = prefix.toLowerCase();
  if (kind === 'from')
    return people
      .filter((u) => u.username.toLowerCase().startsWith(p) || u.shown.toLowerCase().startsWith(p))
      .sort((a, b) => a.username.localeCompare(b.username))
      .slice(0, limit)
      .map((u) => ({ insert: `from:@${u.username}`, label: u.shown === u.username ? `@${u.username}` : `${u.shown} (@${u.username})` }));
  return [...new Set(titles)]
    .filter((t) => t.toLowerCase().startsWith(p))
    .sort((a, b) => a.localeCompare(b))
    .slice(0, limit)
    .map((t) => ({ insert: /[\s"]/.test(t) ? `in:"${t.replace(/"/g, '')}"` : `in:#${t}`, label: t }));
}

/** text with start..caret replaced by insert and a space; the new caret position. */
export function completeFilter(text: string, start: number, caret: number, insert: string): { text: string; caret: number } {
  const rest = text.slice(caret).replace(/^\s+/, '');
  const out = text.slice(0, start) + insert + ' ';
  return { text: out + rest, caret: out.length };
}

/** q with the filter token added, or taken out if it is there (the chips toggle them). */
export function toggleFilter(q: string, token: string): string {
  const words = q.split(/\s+/).filter(Boolean);
  const has = words.some((w) => w.toLowerCase() === token);
  return (has ? words.filter((w) => w.toLowerCase() !== token) : [...words, token]).join(' ');
}

/** Whether q holds the filter token. */
export function hasFilter(q: string, token: string): boolean {
  return q.split(/\s+/).some((w) => w.toLowerCase() === token);
}

/** fn, but each call's answer counts only if no later call was made meanwhile: a search sent
 *  twice, or re-sent with another sort, must not show the earlier answer when it comes last.
 *  A superseded call resolves to { stale: true } (its error too is dropped). */
export function latestOnly<A extends unknown[], R>(fn: (...a: A) => Promise<R>): (...a: A) => Promise<{ stale: true } | { stale: false; value: R }> {
  let latest = 0;
  return async (...a: A) => {
    const mine = ++latest;
    try {
      const value = await fn(...a);
      return mine === latest ? { stale: false, value } : { stale: true };
    } catch (e) {
      if (mine !== latest) return { stale: true };
      throw e;
    }
  };
}
