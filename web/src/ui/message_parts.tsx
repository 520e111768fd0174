// The parts of a message that act on it: its reactions (counts, mine highlighted, a click
// toggles), the action buttons (react, reply, edit, delete), the reaction picker, the "(edited)"
// label that opens the edit history, and the two dialogs that go with them (delete asks first;
// the edit history lists every earlier text).
import { createContext } from 'preact';
import { useContext, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { QUICK_REACTIONS } from '../lib/actions';
import { ChatClient } from '../lib/client';
import { ChatEvent } from '../lib/types';
import { dialog } from './dialogs';
import { errorText } from './errors';
import { timeOfDay } from './format';
import { version } from './state';

/** Whether the message around a control holds the keyboard focus. A message list is one Tab stop
 *  (arrow keys move between messages), so a message's links and buttons are in the Tab order only
 *  while it, or one of them, has focus: Tab goes through them, then out of the list. */
export const MessageFocus = createContext(false);

/** The tabIndex for a control inside a message: 0 while the message has focus, else -1. */
export function useTabStop(): number {
  return useContext(MessageFocus) ? 0 : -1;
}

/** Runs an action; its error is shown by the message (set to '' on success). */
async function attempt(run: () => Promise<void>, setError: (s: string) => void): Promise<void> {
  try {
    await run();
    setError('');
  } catch (e) {
    setError(errorText(e));
  }
}

export function Reactions({ c, ev, readOnly }: { c: ChatClient; ev: ChatEvent; readOnly: boolean }) {
  void version.value; // @preact/signals skips re-rendering unchanged props: subscribe here
  const [error, setError] = useState('');
  const tab = useTabStop();
  if (!ev.reactions?.length && !error) return null;
  return (
    <div class="reactions" role="group" aria-label="Reactions">
      {(ev.reactions ?? []).map((r) => (
        <button
          key={r.emoji}
          class={`reaction ${r.me ? 'me' : ''}`}
          tabIndex={tab}
          aria-pressed={r.me}
          disabled={readOnly}
          aria-label={`${r.emoji} ${r.count}${r.me ? ', including you' : ''}`}
          onClick={() => void attempt(() => c.actions.react(ev.conv, ev.seq, r.emoji, !r.me), setError)}
        >
          {r.emoji} <span class="count">{r.count}</span>
        </button>
      ))}
      {error && (
        <span class="error" role="alert">
          {error}
        </span>
      )}
    </div>
  );
}

export function ReactionPicker({ c, ev, close }: { c: ChatClient; ev: ChatEvent; close: () => void }) {
  const [error, setError] = useState('');
  const first = useRef<HTMLButtonElement>(null);
  useLayoutEffect(() => first.current?.focus(), []);
  const pick = (emoji: string) =>
    void attempt(async () => {
      const mine = ev.reactions?.find((r) => r.emoji === emoji)?.me ?? false;
      await c.actions.react(ev.conv, ev.seq, emoji, !mine);
      close();
    }, setError);
  return (
    <div
      class="picker"
      role="menu"
      aria-label="Add a reaction"
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.preventDefault();
          e.stopPropagation();
          close();
          return;
        }
        // A menu's arrow keys (not the message list's): move between the reactions, wrapping.
        const items = [...e.currentTarget.querySelectorAll<HTMLElement>('[role=menuitem]')];
        const n = items.length;
        const i = items.indexOf(document.activeElement as HTMLElement);
        const forward = e.key === 'ArrowRight' || e.key === 'ArrowDown';
        const back = e.key === 'ArrowLeft' || e.key === 'ArrowUp';
        if (!n || !(forward || back || e.key === 'Home' || e.key === 'End')) return;
        e.preventDefault();
        e.stopPropagation();
        items[e.key === 'Home' ? 0 : e.key === 'End' ? n - 1 : forward ? (i + 1) % n : (i - 1 + n) % n].focus();
      }}
    >
      {QUICK_REACTIONS.map((emoji, i) => (
        <button key={emoji} ref={i === 0 ? first : undefined} role="menuitem" tabIndex={-1} aria-label={`React with ${emoji}`} onClick={() => pick(emoji)}>
          {emoji}
        </button>
      ))}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

/** The buttons shown on a message on hover or focus. onEdit is set for my own messages. */
export function MessageActionsBar(props: {
  c: ChatClient;
  ev: ChatEvent;
  name: string;
  onReply?: (e: ChatEvent) => void;
  onEdit?: (e: ChatEvent) => void;
  onThread?: (e: ChatEvent) => void;
  canDelete: boolean;
  canPin?: boolean;
}) {
  const { c, ev, name } = props;
  const [picking, setPicking] = useState(false);
  const [error, setError] = useState('');
  const pinned = c.admin.isPinned(ev.conv, ev.seq);
  const short = ev.text?.slice(0, 40) ?? '';
  const tab = useTabStop();
  return (
    <div class="msg-actions">
      {props.onReply && (
        <>
          <button class="act" tabIndex={tab} aria-label={`React to ${name}: ${short}`} aria-expanded={picking} onClick={() => setPicking(!picking)}>
            React
          </button>
          <button class="act reply-btn" tabIndex={tab} aria-label={`Reply to ${name}: ${short}`} onClick={() => props.onReply!(ev)}>
            Reply
          </button>
        </>
      )}
      {props.onThread && props.onReply && (
        <button class="act" tabIndex={tab} aria-label={`Reply in a thread to ${name}: ${short}`} onClick={() => props.onThread!(ev)}>
          Thread
        </button>
      )}
      {props.onEdit && (
        <button class="act" tabIndex={tab} aria-label={`Edit: ${short}`} onClick={() => props.onEdit!(ev)}>
          Edit
        </button>
      )}
      {props.canDelete && (
        <button class="act" tabIndex={tab} aria-label={`Delete: ${short}`} onClick={() => (dialog.value = { kind: 'delete', conv: ev.conv, seq: ev.seq })}>
          Delete
        </button>
      )}
      {props.canPin && (
        <button class="act" tabIndex={tab} aria-label={`${pinned ? 'Unpin' : 'Pin'}: ${short}`} onClick={() => void attempt(() => c.admin.pin(ev.conv, ev.seq, !pinned), setError)}>
          {pinned ? 'Unpin' : 'Pin'}
        </button>
      )}
      {picking && <ReactionPicker c={c} ev={ev} close={() => setPicking(false)} />}
      {error && (
        <span class="error" role="alert">
          {error}
        </span>
      )}
    </div>
  );
}

export function EditedLabel({ ev }: { ev: ChatEvent }) {
  const tab = useTabStop();
  if (!ev.edited_ts || ev.deleted) return null;
  return (
    <button
      class="link edited"
      tabIndex={tab}
      title={`Edited ${new Date(ev.edited_ts).toLocaleString()}: show earlier versions`}
      onClick={() => (dialog.value = { kind: 'edits', conv: ev.conv, seq: ev.seq })}
    >
      (edited)
    </button>
  );
}

export function DeleteMessage({ c, conv, seq, close }: { c: ChatClient; conv: number; seq: number; close: () => void }) {
  const [error, setError] = useState('');
  const cancel = useRef<HTMLButtonElement>(null);
  useLayoutEffect(() => cancel.current?.focus(), []);
  const ev = c.timeline(conv)?.get(seq);
  return (
    <div class="confirm" data-testid="confirm">
      <p>
        <strong>Delete this message for everyone?</strong>
      </p>
      {ev?.text && (
        <blockquote class="quote" dir="auto">
          {ev.text.slice(0, 200)}
        </blockquote>
      )}
      <p class="muted">Its text is erased from the server and cannot be brought back.</p>
      <p class="error" role="alert">
        {error}
      </p>
      <div class="confirm-actions">
        <button class="danger" onClick={() => void attempt(async () => (await c.actions.remove(conv, seq), close()), setError)}>
          Delete
        </button>
        <button ref={cancel} onClick={close}>
          Cancel
        </button>
      </div>
    </div>
  );
}

export function EditHistory({ c, conv, seq }: { c: ChatClient; conv: number; seq: number }) {
  const [edits, setEdits] = useState<{ text: string; ts: number }[] | null>(null);
  const [error, setError] = useState('');
  useLayoutEffect(() => {
    c.actions.history(conv, seq).then(setEdits, (e) => setError(errorText(e)));
  }, [conv, seq]);
  return (
    <div>
      <p class="error" role="alert">
        {error}
      </p>
      {!edits && !error && <p class="muted">Loading…</p>}
      <ol class="edits">
        {(edits ?? []).map((e, i) => (
          <li key={i}>
            <time dateTime={new Date(e.ts).toISOString()}>{timeOfDay(e.ts)}</time>{' '}
            <span dir="auto">{e.text}</span>
            {i === (edits ?? []).length - 1 && <span class="muted"> (current)</span>}
          </li>
        ))}
      </ol>
    </div>
  );
}
