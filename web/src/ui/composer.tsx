// The composer: a draft per conversation that grows with its text, reply and edit modes (Edit,
// or Up arrow in an empty composer), @mention autocomplete, and a confirmation before @all or
// @here reaches a large group.
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { ChatClient } from '../lib/client';
import { hiddenInTimeline } from '../lib/changes';
import { complete, completions, hasWildcard, mentionQuery } from '../lib/mentions';
import { ChatEvent, shownName } from '../lib/types';
import { errorText } from './errors';
import { version } from './state';

export const ATTACHMENTS_UNSUPPORTED = 'Attachments are not supported yet: only text can be sent.';

const COMPOSER_MAX_PX = 160;

export function Composer(props: {
  c: ChatClient;
  conv: number;
  replyTo: ChatEvent | null;
  clearReply: () => void;
  /** My message being edited (Edit, or Up arrow in an empty composer); null when writing. */
  editing: ChatEvent | null;
  setEditing: (e: ChatEvent | null) => void;
  note: string;
  setNote: (s: string) => void;
  /** Replies to this thread root (the thread panel's composer). */
  thread?: number;
}) {
  void version.value; // @preact/signals skips re-rendering unchanged props: subscribe here
  const { c, conv, replyTo, clearReply, editing, thread } = props;
  const [text, setTextState] = useState(() => c.draft(conv, thread));
  const [alsoInConv, setAlsoInConv] = useState(false);
  const [error, setError] = useState('');
  const input = useRef<HTMLTextAreaElement>(null);

  function setText(v: string) {
    setTextState(v);
    c.setDraft(conv, v, thread);
  }

  // Editing borrows the composer: the message's text in, the draft back afterwards.
  const [editText, setEditText] = useState('');
  useLayoutEffect(() => {
    if (!editing) return;
    setEditText(editing.text ?? '');
    setError('');
    input.current?.focus();
  }, [editing]);
  function stopEditing() {
    props.setEditing(null);
    setError('');
    input.current?.focus();
  }
  async function saveEdit() {
    if (!editing) return;
    try {
      if (editText !== editing.text) await c.actions.edit(conv, editing.seq, editText);
      stopEditing();
    } catch (err) {
      setError(errorText(err));
    }
  }
  /** My newest message that can still be edited, for the Up arrow. */
  function lastMine(): ChatEvent | undefined {
    const evs = (thread !== undefined ? c.threads.open?.replies.events() : c.timeline(conv)?.events()) ?? [];
    for (let i = evs.length - 1; i >= 0; i--) {
      const ev = evs[i];
      if (thread === undefined && hiddenInTimeline(ev)) continue;
      if (ev.kind === 'message' && ev.sender === c.session.user_id && !ev.deleted) return ev;
    }
    return undefined;
  }

  const idBase = `${conv}${thread === undefined ? '' : `-${thread}`}`;
  // @mention autocomplete: candidates for the @query at the caret, one of them active.
  const [caret, setCaret] = useState(0);
  const [active, setActive] = useState(0);
  const [dismissed, setDismissed] = useState(-1); // Escape closes the list for this query
  const current = editing ? editText : text;
  const q = mentionQuery(current, caret);
  const s = c.convs.get(conv);
  const people = (c.members.get(conv) ?? [])
    .filter((m) => m.user_id !== c.session.user_id)
    .map((m) => ({ username: m.username, shown: shownName(m) }));
  const found = q && q.start !== dismissed ? completions(q.prefix, people, s?.kind === 'group' || s?.kind === 'channel') : [];
  function pick(username: string) {
    if (!q) return;
    const r = complete(current, q.start, caret, username);
    if (editing) setEditText(r.text);
    else setText(r.text);
    setCaret(r.caret);
    setActive(0);
    requestAnimationFrame(() => input.current?.setSelectionRange(r.caret, r.caret));
  }

  // @all / @here in a group above its wildcard limit reaches many people: ask first.
  const [confirmWide, setConfirmWide] = useState(false);
  const size = s?.kind === 'channel' ? (c.memberCount.get(conv) ?? s.channel?.member_count ?? 0) : (c.members.get(conv)?.length ?? 0);
  const wideLimit = s?.settings?.wildcard_limit ?? 15;

  function submit(e?: Event, confirmed = false) {
    e?.preventDefault();
    if (editing) {
      void saveEdit();
      return;
    }
    if (!confirmed && (s?.kind === 'group' || s?.kind === 'channel') && size > wideLimit && hasWildcard(text)) {
      setConfirmWide(true);
      return;
    }
    setConfirmWide(false);
    try {
      c.send(conv, text, replyTo?.seq, thread === undefined ? undefined : { root: thread, alsoInConversation: alsoInConv });
      setText('');
      setError('');
      props.setNote('');
      clearReply();
    } catch (err) {
      setError(errorText(err));
    }
    input.current?.focus();
  }

  // Grows with what it shows (the draft, or the text being edited) up to COMPOSER_MAX_PX, then
  // scrolls.
  useLayoutEffect(() => {
    const el = input.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${Math.min(el.scrollHeight + 2, COMPOSER_MAX_PX)}px`;
  }, [current]);

  // Opening a conversation puts the cursor in its composer, unless it was opened at a message
  // (a search result, a mention): that message keeps the focus, for the arrow keys.
  useEffect(() => {
    if (!(document.activeElement as HTMLElement | null)?.closest('.msg.found')) input.current?.focus();
  }, [conv]);

  useLayoutEffect(() => {
    if (replyTo) input.current?.focus();
  }, [replyTo]);

  const shown = error || props.note;
  return (
    <form class="composer" onSubmit={submit}>
      {editing && (
        <div class="replying editing">
          <span dir="auto">Editing your message</span>
          <button type="button" class="link" onClick={stopEditing} aria-label="Cancel editing">
            Cancel
          </button>
        </div>
      )}
      {replyTo && !editing && (
        <div class="replying">
          <span dir="auto">
            Replying to <strong>{c.nameOf(replyTo.sender)}</strong>: {replyTo.text?.slice(0, 80)}
          </span>
          <button type="button" class="link" onClick={clearReply} aria-label="Cancel reply">
            Cancel
          </button>
        </div>
      )}
      <p class="error" role="alert" data-testid="composer-error">
        {shown}
      </p>
      {confirmWide && (
        <div class="confirm wide" role="group" aria-label="Notify everyone?" data-testid="confirm-wide">
          <span>
            This notifies {hasWildcard(text) && /@here/.test(text) ? 'everyone online among' : 'all'} {size} members. Send it?
          </span>
          <button type="button" class="primary" onClick={() => submit(undefined, true)}>
            Send to everyone
          </button>
          <button type="button" onClick={() => (setConfirmWide(false), input.current?.focus())}>
            Cancel
          </button>
        </div>
      )}
      {found.length > 0 && (
        <ul class="mentions-list" role="listbox" id={`mentions-${idBase}`} aria-label="People to mention">
          {found.map((f, i) => (
            <li
              key={f.username}
              id={`mention-${idBase}-${i}`}
              role="option"
              aria-selected={i === Math.min(active, found.length - 1)}
              onMouseDown={(e) => {
                e.preventDefault(); // keeps focus in the composer
                pick(f.username);
              }}
            >
              @{f.label}
            </li>
          ))}
        </ul>
      )}
      <div class="composer-row">
        <textarea
          ref={input}
          aria-label={thread !== undefined ? 'Reply in thread' : 'Message'}
          placeholder={thread !== undefined ? 'Reply in the thread' : 'Write a message'}
          dir="auto"
          rows={1}
          value={current}
          aria-autocomplete="list"
          aria-controls={found.length > 0 ? `mentions-${idBase}` : undefined}
          aria-activedescendant={found.length > 0 ? `mention-${idBase}-${Math.min(active, found.length - 1)}` : undefined}
          onKeyUp={(e) => setCaret((e.target as HTMLTextAreaElement).selectionStart)}
          onClick={(e) => setCaret((e.target as HTMLTextAreaElement).selectionStart)}
          onInput={(e) => {
            const v = (e.target as HTMLTextAreaElement).value;
            setCaret((e.target as HTMLTextAreaElement).selectionStart);
            setActive(0);
            if (confirmWide) setConfirmWide(false);
            if (editing) {
              setEditText(v);
              if (error) setError('');
              return;
            }
            setText(v);
            if (error) setError('');
            if (props.note) props.setNote('');
            c.typingFor(conv, v, thread);
          }}
          onPaste={(e) => {
            if (e.clipboardData && e.clipboardData.files.length > 0) {
              e.preventDefault();
              props.setNote(ATTACHMENTS_UNSUPPORTED);
            }
          }}
          onKeyDown={(e) => {
            if (found.length > 0 && !e.isComposing) {
              if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
                e.preventDefault();
                const n = found.length;
                setActive((Math.min(active, n - 1) + (e.key === 'ArrowDown' ? 1 : n - 1)) % n);
                return;
              }
              if (e.key === 'Enter' || e.key === 'Tab') {
                e.preventDefault();
                pick(found[Math.min(active, found.length - 1)].username);
                return;
              }
              if (e.key === 'Escape') {
                e.preventDefault();
                setDismissed(q!.start);
                return;
              }
            }
            if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) submit(e);
            if (e.key === 'ArrowUp' && !editing && text === '') {
              const mine = lastMine();
              if (mine) {
                e.preventDefault();
                props.setEditing(mine);
              }
            }
            if (e.key === 'Escape' && editing) {
              e.preventDefault(); // cancels the edit, not the conversation
              stopEditing();
            } else if (e.key === 'Escape' && replyTo) {
              e.preventDefault(); // cancels the reply, not the conversation
              clearReply();
            }
          }}
        />
        <button class="primary" type="submit">
          {editing ? 'Save' : thread !== undefined ? 'Reply' : 'Send'}
        </button>
      </div>
      {thread !== undefined && !editing && (
        <label class="also">
          <input type="checkbox" checked={alsoInConv} onChange={(e) => setAlsoInConv((e.target as HTMLInputElement).checked)} /> Also send to the
          conversation
        </label>
      )}
    </form>
  );
}
