// One message as the lists show it (the conversation's timeline and a thread panel): sender,
// quoted reply, text with links and mentions, reactions, time, "(edited)", delivery state, the
// thread summary of a root, and its action buttons; plus unsent messages and system notes.
import { useState } from 'preact/hooks';
import { ChatClient, PendingMessage } from '../lib/client';
import { initials } from '../lib/conversations';
import { linkParts } from '../lib/links';
import { mentionParts } from '../lib/mentions';
import { ApiError, ChatEvent } from '../lib/types';
import { errorText } from './errors';
import { timeOfDay } from './format';
import { EditedLabel, MessageActionsBar, MessageFocus, Reactions, useTabStop } from './message_parts';
import { version } from './state';

function stateLabel(state: string | undefined, group: boolean, readBy: string[] | undefined): string {
  if (state === 'read') return group ? `Read by ${readBy!.join(', ')}` : 'Read';
  if (group && readBy && readBy.length) return `Read by ${readBy.join(', ')}`;
  if (state === 'delivered') return 'Delivered';
  return 'Sent';
}

/** Message text with http(s)/mailto links made clickable and the mentions the server resolved
 *  highlighted (mine more); everything else stays text. */
export function MessageText({ text, ev, c }: { text: string; ev?: ChatEvent; c?: ChatClient }) {
  const parts = ev && c ? mentionParts(text, ev, c.session.user_id, (id) => c.usernameOf(id)) : [{ text }];
  const tab = useTabStop();
  let key = 0;
  return (
    <div class="text" dir="auto">
      {parts.map((m) =>
        m.mention ? (
          <span key={key++} class={`mention ${m.me ? 'me' : ''}`}>
            {m.text}
          </span>
        ) : (
          linkParts(m.text).map((p) =>
            p.href ? (
              <a key={key++} href={p.href} target="_blank" rel="noopener noreferrer" tabIndex={tab}>
                {p.text}
              </a>
            ) : (
              p.text
            ),
          )
        ),
      )}
    </div>
  );
}

/** Focusable message rows in a list, in order. */
function messageRows(list: HTMLElement): HTMLElement[] {
  return [...list.querySelectorAll<HTMLElement>('.msg[data-seq], .msg.pending')];
}

/** The message an arrow key (Up, Down, Home, End) moves the focus to inside list, or undefined
 *  for other keys. From outside a message, Up and Down start at the newest. */
export function arrowTarget(list: HTMLElement, key: string): HTMLElement | undefined {
  const items = messageRows(list);
  const current = (document.activeElement as HTMLElement | null)?.closest<HTMLElement>('.msg');
  const i = current ? items.indexOf(current) : -1;
  if (key === 'ArrowUp') return i < 0 ? items[items.length - 1] : items[Math.max(0, i - 1)];
  if (key === 'ArrowDown') return i < 0 ? items[items.length - 1] : items[Math.min(items.length - 1, i + 1)];
  if (key === 'Home') return items[0];
  if (key === 'End') return items[items.length - 1];
  return undefined;
}

/** Which message of a list holds the focus (its seq), kept by the list's focusin/focusout, so
 *  that message's controls are in the Tab order and no other's. */
export function useFocusedMessage(): {
  focused: number | null;
  listeners: { onFocusIn: (e: FocusEvent) => void; onFocusOut: (e: FocusEvent) => void };
} {
  const [focused, setFocused] = useState<number | null>(null);
  return {
    focused,
    listeners: {
      onFocusIn: (e) => {
        const m = (e.target as HTMLElement | null)?.closest<HTMLElement>('.msg[data-seq]');
        setFocused(m ? Number(m.dataset.seq) : null);
      },
      onFocusOut: (e) => {
        const list = e.currentTarget as HTMLElement;
        if (!(e.relatedTarget instanceof Node && list.contains(e.relatedTarget))) setFocused(null);
      },
    },
  };
}

export function Message(props: {
  c: ChatClient;
  ev: ChatEvent;
  group: boolean;
  cont: boolean;
  mine: boolean;
  state?: string;
  readBy?: string[];
  quoted?: ChatEvent;
  onReply?: (e: ChatEvent) => void;
  onEdit?: (e: ChatEvent) => void;
  /** Opens the message's thread (unset inside a thread: threads are one level). */
  onThread?: (e: ChatEvent) => void;
  canDelete: boolean;
  canPin?: boolean;
  /** The message (or a control in it) has keyboard focus: its controls join the Tab order. */
  active?: boolean;
}) {
  void version.value; // @preact/signals skips re-rendering unchanged props: subscribe here
  const { c, ev, group, mine, cont } = props;
  const name = c.nameOf(ev.sender);
  const showAvatar = group && !mine;
  return (
    <MessageFocus.Provider value={!!props.active}>
      <div
        class={`msg ${mine ? 'mine' : ''} ${cont ? 'cont' : ''} ${ev.deleted ? 'deleted' : ''}`}
        data-seq={ev.seq}
        data-state={mine ? props.state : undefined}
        tabIndex={-1}
        role="article"
        aria-label={`${mine ? 'You' : name}, ${timeOfDay(ev.ts)}: ${ev.deleted ? 'message deleted' : (ev.text ?? '')}${ev.edited_ts ? ' (edited)' : ''}`}
      >
        {showAvatar &&
          (cont ? (
            <span class="avatar small spacer" aria-hidden="true" />
          ) : (
            <span class="avatar small" aria-hidden="true">
              {initials(name)}
            </span>
          ))}
        <div class="bubble">
          {group && !mine && !cont && <div class="who">{name}</div>}
          {ev.reply_to && (
            <div class="quote" dir="auto">
              {props.quoted?.deleted ? (
                'Reply to a deleted message'
              ) : props.quoted ? (
                <>
                  <strong>{c.nameOf(props.quoted.sender)}</strong> {props.quoted.text}
                </>
              ) : (
                'Reply to an earlier message'
              )}
            </div>
          )}
          {ev.deleted ? <div class="text tombstone">This message was deleted.</div> : <MessageText text={ev.text ?? ''} ev={ev} c={c} />}
          {ev.also_in_conversation && ev.thread_root !== undefined && (
            <button class="link in-thread" tabIndex={props.active ? 0 : -1} onClick={() => props.onThread?.({ ...ev, seq: ev.thread_root! })}>
              Replied in a thread
            </button>
          )}
          <Reactions c={c} ev={ev} readOnly={!props.onReply} />
          <div class="meta">
            <time dateTime={new Date(ev.ts).toISOString()} title={new Date(ev.ts).toLocaleString()}>
              {timeOfDay(ev.ts)}
            </time>
            <EditedLabel ev={ev} />
            {mine && <span class="state">{stateLabel(props.state, group, props.readBy)}</span>}
          </div>
          {ev.thread && ev.thread.replies > 0 && props.onThread && <ThreadLine c={c} ev={ev} open={() => props.onThread!(ev)} />}
        </div>
        <MessageActionsBar
          c={c}
          ev={ev}
          name={name}
          onReply={props.onReply}
          onEdit={props.onEdit}
          onThread={ev.thread_root === undefined ? props.onThread : undefined}
          canDelete={props.canDelete}
          canPin={props.canPin}
        />
      </div>
    </MessageFocus.Provider>
  );
}

export function PendingBubble({ c, pm }: { c: ChatClient; pm: PendingMessage }) {
  void version.value; // @preact/signals skips re-rendering unchanged props: subscribe here
  const e = pm.entry;
  const state = e.failed ? 'failed' : pm.seq ? 'sent' : 'sending';
  return (
    <div class="msg mine pending" data-state={state} data-client-id={e.client_id} tabIndex={-1} role="article" aria-label={`You: ${e.text}`}>
      <div class="bubble">
        <MessageText text={e.text} />
        <div class="meta">
          <time>{timeOfDay(e.created_ts)}</time>
          <span class="state">{state === 'failed' ? 'Not sent' : state === 'sent' ? 'Sent' : 'Sending…'}</span>
        </div>
        {e.failed && (
          <div class="error" role="alert">
            Not sent: {errorText(new ApiError(e.failed.code, e.failed.message, false))}{' '}
            <button class="link" onClick={() => c.discard(e.client_id)}>
              Discard
            </button>
          </div>
        )}
      </div>
    </div>
  );
}

export function SystemNote({ c, ev }: { c: ChatClient; ev: ChatEvent }) {
  void version.value; // @preact/signals skips re-rendering unchanged props: subscribe here
  const d = (ev.data ?? {}) as Record<string, unknown>;
  const by = c.nameOf(ev.sender);
  let text = '';
  switch (ev.kind) {
    case 'created':
      text =
        d.kind === 'group'
          ? `${by} created the group “${d.title}”`
          : d.kind === 'channel'
            ? `${by} created the channel “${d.title}”`
            : `${by} started the conversation`;
      break;
    case 'members_added':
      text = `${by} added ${((d.users as number[]) ?? []).map((u) => c.nameOf(u)).join(', ')}`;
      break;
    case 'member_removed':
      text = `${by} removed ${c.nameOf(d.user as number)}`;
      break;
    case 'member_left':
      text = `${by} left`;
      break;
    case 'role_changed':
      text = `${by} made ${c.nameOf(d.user as number)} ${d.role}`;
      break;
    default:
      text = moderationText(c, ev.kind, by, d);
  }
  return (
    <div class="system" data-seq={ev.seq} dir="auto">
      {text}
    </div>
  );
}

/** Under a thread root: how many replies, who, when, and my unread count; opens the thread. */
function ThreadLine({ c, ev, open }: { c: ChatClient; ev: ChatEvent; open: () => void }) {
  const t = ev.thread!;
  const who = t.participants.map((u) => c.nameOf(u)).join(', ');
  const tab = useTabStop();
  return (
    <button class="thread-line link" tabIndex={tab} data-testid="thread-line" onClick={open}>
      <strong>
        {t.replies} {t.replies === 1 ? 'reply' : 'replies'}
      </strong>
      {t.unread > 0 && <span class="badge small">{t.unread} new</span>} <span class="muted">{who}</span>{' '}
      <span class="muted">· last {timeOfDay(t.last_ts)}</span>
    </button>
  );
}

function duration(ms: number): string {
  const m = Math.round(ms / 60000);
  if (m < 60) return `${m} minute${m === 1 ? '' : 's'}`;
  const h = Math.round(m / 60);
  if (h < 48) return `${h} hour${h === 1 ? '' : 's'}`;
  return `${Math.round(h / 24)} days`;
}

/** System notes for settings, pins and moderation events. */
function moderationText(c: ChatClient, kind: string, by: string, d: Record<string, unknown>): string {
  const who = typeof d.user === 'number' ? c.nameOf(d.user) : '';
  switch (kind) {
    case 'settings_changed': {
      const parts: string[] = [];
      if (typeof d.title === 'string') parts.push(`renamed the group “${d.title}”`);
      if (typeof d.description === 'string') parts.push(d.description ? 'changed the description' : 'removed the description');
      if (d.post_policy === 'admins') parts.push('let only admins post');
      if (d.post_policy === 'everyone') parts.push('let everyone post');
      if (d.pin_policy) parts.push(d.pin_policy === 'admins' ? 'let only admins pin' : 'let everyone pin');
      if (typeof d.wildcard_limit === 'number') parts.push(`limited @all and @here to groups of ${d.wildcard_limit} for members`);
      if (typeof d.slow_mode_s === 'number') parts.push(d.slow_mode_s ? `turned on slow mode (one message per ${d.slow_mode_s} s)` : 'turned off slow mode');
      return `${by} ${parts.join(', ') || 'changed the settings'}`;
    }
    case 'pinned':
      return `${by} pinned a message`;
    case 'unpinned':
      return `${by} unpinned a message`;
    case 'member_muted':
      return `${by} muted ${who}${typeof d.until === 'number' ? ` for ${duration(d.until - Date.now())}` : ''}`;
    case 'member_unmuted':
      return `${by} unmuted ${who}`;
    case 'member_banned':
      return `${by} banned ${who}`;
    case 'member_unbanned':
      return `${by} lifted the ban on ${who}`;
    default:
      return kind;
  }
}
