// Links in message text: the text split into plain and link parts. Only http, https and mailto
// become links; everything stays text to the view (rendered as text nodes, never as HTML).

export type Part = { text: string; href?: string };

// A candidate: a scheme we allow, then anything up to white space or characters that end a URL
// in prose. Checked again with the URL parser below.
const CANDIDATE = /\b(?:https?:\/\/|mailto:)[^\s<>"'`]+/gi;
const TRAILING_CHAR = /[.,;:!?'")\]}]/;

function count(s: string, c: string): number {
  return s.split(c).length - 1;
}

/** The link for a candidate, or null when it is not a well-formed http(s)/mailto URL. */
export function safeHref(candidate: string): string | null {
  let u: URL;
  try {
    u = new URL(candidate);
  } catch {
    return null;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:' && u.protocol !== 'mailto:') return null;
  if (u.protocol !== 'mailto:' && !u.hostname) return null;
  if (u.protocol === 'mailto:' && !/^[^@\s]+@[^@\s]+$/.test(decodeURIComponent(u.pathname))) return null;
  return u.href;
}

export function linkParts(text: string): Part[] {
  const out: Part[] = [];
  let last = 0;
  for (const m of text.matchAll(CANDIDATE)) {
    let raw = m[0];
    // Closing punctuation after a URL belongs to the sentence, unless a ")" closes a "(" in it.
    while (raw && TRAILING_CHAR.test(raw[raw.length - 1])) {
      const c = raw[raw.length - 1];
      if (c === ')' && count(raw, '(') >= count(raw, ')')) break;
      raw = raw.slice(0, -1);
    }
    const href = safeHref(raw);
    if (!href) continue;
    const start = m.index ?? 0;
    if (start > last) out.push({ text: text.slice(last, start) });
    out.push({ text: raw, href });
    last = start + raw.length;
  }
  if (last < text.length) out.push({ text: text.slice(last) });
  return out;
}
