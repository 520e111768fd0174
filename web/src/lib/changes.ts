// Events that change an earlier message instead of adding one: a reaction, an edit, a delete, and
// a thread reply (it changes its root's thread summary). They are in the conversation's log like
// any event (so every device sees them through the same catch-up). Reactions, edits, deletes and
// thread-only replies are not rows of the conversation's timeline; a reply also sent to the
// conversation is both a row and a change of its root.
//
// Convergence (docs/protocol.md 4.1 and 6.2): a message from `history` is its state now, and the
// stream then delivers, in order, every event after the device's cursor, some of them already
// reflected in that state. Reactions, edits and deletes set values (a reaction event carries the
// emoji's count after it), so applying one again is harmless and the last one wins; a thread
// reply is counted on its root only above the summary's last_seq, the latest reply it counts.
import { ChatEvent, Reaction } from './types';

export const CHANGE_KINDS: ReadonlySet<string> = new Set(['reaction', 'edited', 'deleted']);

/** Whether ev changes another message (so is applied to it). */
export function isChange(ev: ChatEvent): boolean {
  return CHANGE_KINDS.has(ev.kind) || (ev.kind === 'message' && ev.thread_root !== undefined);
}

/** Whether ev is shown on another message (or in a thread) rather than as a timeline row. */
export function hiddenInTimeline(ev: ChatEvent): boolean {
  return CHANGE_KINDS.has(ev.kind) || (ev.thread_root !== undefined && !ev.also_in_conversation);
}

/** The seq of the message a change event is about. */
export function changeTarget(ev: ChatEvent): number | undefined {
  if (ev.kind === 'message') return ev.thread_root;
  const t = (ev.data as { target?: unknown } | undefined)?.target;
  return typeof t === 'number' ? t : undefined;
}

/** The message as it is after change (a new object; the input is not modified), or the same
 *  object when the change cannot apply (a reply already counted, an edit of a deleted message). */
export function applied(msg: ChatEvent, change: ChatEvent, me: number): ChatEvent {
  if (change.seq <= msg.seq) return msg;
  const d = (change.data ?? {}) as { emoji?: string; added?: boolean; text?: string; count?: number };
  const out: ChatEvent = { ...msg };
  switch (change.kind) {
    case 'edited':
      if (msg.deleted) return msg; // committed before the delete
      out.text = d.text ?? '';
      out.edited_ts = change.ts;
      return out;
    case 'deleted':
      out.deleted = true;
      out.text = '';
      delete out.reactions;
      delete out.edited_ts;
      return out;
    case 'reaction': {
      if (msg.deleted || !d.emoji) return msg;
      let list = (msg.reactions ?? []).map((r) => ({ ...r }));
      let r: Reaction | undefined = list.find((x) => x.emoji === d.emoji);
      const count = d.count ?? Math.max(0, (r?.count ?? 0) + (d.added ? 1 : -1));
      if (d.added && count === 1 && r) list = [...list.filter((x) => x !== r), r]; // just appeared: last
      if (!r) list.push((r = { emoji: d.emoji, count, me: false }));
      r.count = count;
      if (change.sender === me) r.me = !!d.added;
      out.reactions = list.filter((x) => x.count > 0);
      if (out.reactions.length === 0) delete out.reactions;
      return out;
    }
    case 'message': {
      // A thread reply: the root's summary moves on. I follow a thread I started, replied in or
      // was mentioned in; a reply from someone else is unread for a follower.
      const t = msg.thread ?? { replies: 0, last_ts: 0, last_seq: 0, participants: [], following: false, unread: 0 };
      if (change.seq <= (t.last_seq ?? 0)) return msg; // already counted in the summary
      const first = t.replies === 0 && msg.sender === me;
      const following = t.following || change.sender === me || first || !!change.mentions?.includes(me);
      out.thread = {
        replies: t.replies + 1,
        last_seq: change.seq,
        last_ts: Math.max(t.last_ts, change.ts),
        participants: [change.sender, ...t.participants.filter((p) => p !== change.sender)].slice(0, 3),
        following,
        unread: change.sender === me ? 0 : following ? t.unread + 1 : t.unread,
      };
      return out;
    }
    default:
      return msg;
  }
}

/** A conversation list preview (last_message) after change, when change is about it. */
export function previewAfter(last: ChatEvent | null, change: ChatEvent, me: number): ChatEvent | null {
  if (!last || changeTarget(change) !== last.seq) return last;
  return applied(last, change, me);
}
