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
