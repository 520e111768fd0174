// Mentions in the composer and in message text. The server resolves `@username`, `@all` and
// `@here` at send time (docs/protocol.md, mentions); the client only helps to write them
// (autocomplete) and shows the ones the server resolved (a message's `mentions` ids and its
// mention_all / mention_here flags), so a token the server did not resolve is plain text.
import { ChatEvent } from './types';

const NAME_CHAR = /[A-Za-z0-9_.-]/;

/** The `@prefix` being typed at the caret (caret just after it), or null. */
export function mentionQuery(text: string, caret: number): { start: number; prefix: string } | null {
  let i = caret;
  while (i > 0 && NAME_CHAR.test(text[i - 1])) i--;
  if (i === 0 || text[i - 1] !== '@') return null;
  const at = i - 1;
  if (at > 0 && (NAME_CHAR.test(text[at - 1]) || text[at - 1] === '@')) return null; // an e-mail address
  const prefix = text.slice(i, caret);
  if (prefix.length > 32) return null;
  return { start: at, prefix };
}

export interface Candidate {
  username: string;
  label: string;
}

/** Members whose username or shown name starts with prefix (case-insensitive), then @all and
 *  @here in groups; at most limit. */
export function completions(
  prefix: string,
  people: readonly { username: string; shown: string }[],
  group: boolean,
  limit = 8,
): Candidate[] {
  const p = prefix.toLowerCase();
  const out: Candidate[] = [];
  for (const m of people) {
    if (m.username.toLowerCase().startsWith(p) || m.shown.toLowerCase().startsWith(p))
      out.push({ username: m.username, label: m.shown === m.username ? m.username : `${m.shown} (@${m.username})` });
  }
  out.sort((a, b) => a.username.localeCompare(b.username));
  if (group) {
    if ('all'.startsWith(p)) out.push({ username: 'all', label: 'all — everyone in this group' });
    if ('here'.startsWith(p)) out.push({ username: 'here', label: 'here — everyone online now' });
  }
  return out.slice(0, limit);
}

/** text with the query at start..caret replaced by `@username `; the new caret position. */
export function complete(text: string, start: number, caret: number, username: string): { text: string; caret: number } {
  const insert = `@${username} `;
  return { text: text.slice(0, start) + insert + text.slice(caret), caret: start + insert.length };
}

/** Whether text uses @all or @here (the client asks first in a large group). */
export function hasWildcard(text: string): boolean {
  return /(^|[^A-Za-z0-9_.@-])@(all|here)(?![A-Za-z0-9_-])/.test(text);
}

export type MentionPart = { text: string; mention?: 'user' | 'all' | 'here'; me?: boolean };

/** Message text split into plain parts and the mentions the server resolved in it. usernameOf
 *  names a mentioned user id (undefined when not known yet). */
export function mentionParts(text: string, ev: ChatEvent, me: number, usernameOf: (id: number) => string | undefined): MentionPart[] {
  const byName = new Map<string, number>();
  for (const id of ev.mentions ?? []) {
    const u = usernameOf(id);
    if (u) byName.set(u, id);
  }
  if (byName.size === 0 && !ev.mention_all && !ev.mention_here) return [{ text }];
  const out: MentionPart[] = [];
  let last = 0;
  for (const m of text.matchAll(/@([A-Za-z0-9_.-]{1,32})/g)) {
    const at = m.index ?? 0;
    if (at > 0 && (NAME_CHAR.test(text[at - 1]) || text[at - 1] === '@')) continue;
    let name = m[1];
    // "@ana." at the end of a sentence: the dot is punctuation unless the username has it.
    while (name && !byName.has(name) && /[.-]$/.test(name)) name = name.slice(0, -1);
    let part: MentionPart | null = null;
    if (byName.has(name)) part = { text: `@${name}`, mention: 'user', me: byName.get(name) === me };
    else if (name === 'all' && ev.mention_all) part = { text: '@all', mention: 'all', me: true };
    else if (name === 'here' && ev.mention_here) part = { text: '@here', mention: 'here', me: true };
    if (!part) continue;
    if (at > last) out.push({ text: text.slice(last, at) });
    out.push(part);
    last = at + part.text.length;
  }
  if (last < text.length) out.push({ text: text.slice(last) });
  return out;
}
