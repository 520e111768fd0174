// Events that change an earlier message instead of adding one: a reaction, an edit, a delete, and
// a thread reply (it changes its root's thread summary). They are in the conversation's log like
// any event (so every device sees them through the same catch-up). Reactions, edits, deletes and
// thread-only replies are not rows of the conversation's timeline; a reply also sent to the
// conversation is both a row and a change of its root.
//
// Convergence: a message from `history` carries its state as of its `rev` (the seq of the last
// change reflected in it). A change event is applied only when its seq is above the target's rev,
// so an event seen both in a history page and in the stream is counted once, whatever the order.
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
 *  object when the change is already reflected in it (change.seq <= its rev). */
export function applied(msg: ChatEvent, change: ChatEvent, me: number): ChatEvent {
  if (change.seq <= (msg.rev ?? msg.seq)) return msg;
  const d = (change.data ?? {}) as { emoji?: string; added?: boolean; text?: string };
  const out: ChatEvent = { ...msg, rev: change.seq };
  switch (change.kind) {
    case 'edited':
      if (msg.deleted) return out;
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
      if (msg.deleted || !d.emoji) return out;
      const list = (msg.reactions ?? []).map((r) => ({ ...r }));
      let r: Reaction | undefined = list.find((x) => x.emoji === d.emoji);
      if (d.added) {
        if (!r) list.push((r = { emoji: d.emoji, count: 0, me: false }));
        r.count += 1;
        if (change.sender === me) r.me = true;
      } else if (r) {
        r.count = Math.max(0, r.count - 1);
        if (change.sender === me) r.me = false;
      }
      out.reactions = list.filter((x) => x.count > 0);
      if (out.reactions.length === 0) delete out.reactions;
      return out;
    }
    case 'message': {
      // A thread reply: the root's summary moves on. I follow a thread I started, replied in or
      // was mentioned in; a reply from someone else is unread for a follower.
      const t = msg.thread ?? { replies: 0, last_ts: 0, participants: [], following: false, unread: 0 };
      const following = t.following || change.sender === me || msg.sender === me || !!change.mentions?.includes(me);
      out.thread = {
        replies: t.replies + 1,
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
