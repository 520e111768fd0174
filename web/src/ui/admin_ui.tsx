// A group's settings (owners and admins change them; everyone sees them), its pinned messages,
// and my notification level for a conversation.
import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import { Notify } from '../lib/admin';
import { ChatClient } from '../lib/client';
import { ChatEvent, ConversationSettings } from '../lib/types';
import { errorText } from './errors';
import { timeOfDay } from './format';
import { version } from './state';

const DEFAULTS: ConversationSettings = { post_policy: 'everyone', pin_policy: 'admins', wildcard_limit: 15, slow_mode_s: 0 };

export function isAdmin(c: ChatClient, conv: number): boolean {
  const role = c.convs.get(conv)?.role;
  return role === 'owner' || role === 'admin';
}

/** Whether I may pin in conv (its pin policy). */
export function mayPin(c: ChatClient, conv: number): boolean {
  const s = c.convs.get(conv);
  if (!s || s.left) return false;
  return (s.settings?.pin_policy ?? DEFAULTS.pin_policy) === 'everyone' || isAdmin(c, conv);
}

/** Whether I may post in conv (an announcement group lets only admins post). */
export function mayPost(c: ChatClient, conv: number): boolean {
  const s = c.convs.get(conv);
  return !!s && !s.left && ((s.settings?.post_policy ?? 'everyone') === 'everyone' || isAdmin(c, conv));
}

export function SettingsForm({ c, conv, close }: { c: ChatClient; conv: number; close: () => void }) {
  void version.value; // @preact/signals skips re-rendering unchanged props: subscribe here
  const s = c.convs.get(conv);
  const now = { ...DEFAULTS, ...s?.settings };
  const [title, setTitle] = useState(s?.title ?? '');
  const [description, setDescription] = useState(s?.description ?? '');
  const [post, setPost] = useState(now.post_policy);
  const [pin, setPin] = useState(now.pin_policy);
  const [wide, setWide] = useState(String(now.wildcard_limit));
  const [slow, setSlow] = useState(String(now.slow_mode_s));
  const [error, setError] = useState('');
  const first = useRef<HTMLInputElement>(null);
  useLayoutEffect(() => first.current?.focus(), []);
  const editable = isAdmin(c, conv) && !s?.left;

  async function save(e: Event) {
    e.preventDefault();
    const change: Record<string, unknown> = {};
    if (title.trim() !== s?.title) change.title = title.trim();
    if (description !== (s?.description ?? '')) change.description = description;
    if (post !== now.post_policy) change.post_policy = post;
    if (pin !== now.pin_policy) change.pin_policy = pin;
    if (Number(wide) !== now.wildcard_limit) change.wildcard_limit = Number(wide);
    if (Number(slow) !== now.slow_mode_s) change.slow_mode_s = Number(slow);
    if (Object.keys(change).length === 0) return close();
    if (change.title === '') return setError('Give the group a title.');
    try {
      await c.admin.setSettings(conv, change);
      close();
    } catch (err) {
      setError(errorText(err));
    }
  }
  return (
    <form onSubmit={save} class="settings">
      <fieldset disabled={!editable}>
        {!editable && <p class="muted">Only owners and admins change these.</p>}
        <label>
          Title
          <input ref={first} value={title} maxLength={200} onInput={(e) => setTitle((e.target as HTMLInputElement).value)} />
        </label>
        <label>
          Description
          <textarea value={description} maxLength={1000} rows={3} dir="auto" onInput={(e) => setDescription((e.target as HTMLTextAreaElement).value)} />
        </label>
        <label>
          Who may post
          <select value={post} onChange={(e) => setPost((e.target as HTMLSelectElement).value as ConversationSettings['post_policy'])}>
            <option value="everyone">Everyone</option>
            <option value="admins">Only owners and admins (announcements)</option>
          </select>
        </label>
        <label>
          Who may pin
          <select value={pin} onChange={(e) => setPin((e.target as HTMLSelectElement).value as ConversationSettings['pin_policy'])}>
            <option value="admins">Only owners and admins</option>
            <option value="everyone">Everyone</option>
          </select>
        </label>
        <label>
          Members may use @all and @here up to this group size
          <input type="number" min={0} max={100000} value={wide} onInput={(e) => setWide((e.target as HTMLInputElement).value)} />
        </label>
        <label>
          Slow mode: seconds between a member's messages (0: off)
          <input type="number" min={0} max={86400} value={slow} onInput={(e) => setSlow((e.target as HTMLInputElement).value)} />
        </label>
      </fieldset>
      <p class="error" role="alert">
        {error}
      </p>
      {editable && (
        <button class="primary" type="submit">
          Save
        </button>
      )}
    </form>
  );
}

export function PinsList({ c, conv, close }: { c: ChatClient; conv: number; close: () => void }) {
  void version.value; // @preact/signals skips re-rendering unchanged props: subscribe here
  const [error, setError] = useState('');
  useLayoutEffect(() => {
    c.loadPins(conv).catch((e) => setError(errorText(e)));
  }, [conv]);
  const pins: ChatEvent[] | undefined = c.admin.pins.get(conv);
  const can = mayPin(c, conv);
  return (
    <div>
      <p class="error" role="alert">
        {error}
      </p>
      {!pins && !error && <p class="muted">Loading…</p>}
      {pins?.length === 0 && <p class="muted">Nothing is pinned.</p>}
      <ul class="results pins" role="list">
        {(pins ?? []).map((m) => (
          <li key={m.seq} class="pin">
            <span class="pin-text" dir="auto">
              <strong>{c.nameOf(m.sender)}</strong> {m.deleted ? 'deleted message' : m.text} <span class="muted">{timeOfDay(m.ts)}</span>
            </span>
            {can && (
              <button aria-label={`Unpin: ${(m.text ?? '').slice(0, 40)}`} onClick={() => c.admin.pin(conv, m.seq, false).catch((e) => setError(errorText(e)))}>
                Unpin
              </button>
            )}
          </li>
        ))}
      </ul>
      <button onClick={close}>Done</button>
    </div>
  );
}

const MUTE_CHOICES: { label: string; ms: number }[] = [
  { label: 'for 1 hour', ms: 3600_000 },
  { label: 'for 8 hours', ms: 8 * 3600_000 },
  { label: 'for a day', ms: 24 * 3600_000 },
  { label: 'for a week', ms: 7 * 24 * 3600_000 },
];

/** My notification level for conv: all, mentions only, nothing, or muted for a while. */
export function NotifyMenu({ c, conv }: { c: ChatClient; conv: number }) {
  void version.value; // @preact/signals skips re-rendering unchanged props: subscribe here
  const s = c.convs.get(conv);
  const [error, setError] = useState('');
  if (!s || s.left) return null;
  const muted = s.muted_until !== undefined && s.muted_until > Date.now();
  const value = muted ? 'muted' : (s.notify ?? 'all');
  async function choose(v: string) {
    try {
      if (v.startsWith('mute:')) await c.setNotify(conv, s!.notify ?? 'all', Date.now() + Number(v.slice(5)));
      else await c.setNotify(conv, v as Notify);
      setError('');
    } catch (e) {
      setError(errorText(e));
    }
  }
  return (
    <label class="notify">
      <span class="sr-only">Notifications</span>
      <select value={value} aria-label="Notifications" onChange={(e) => void choose((e.target as HTMLSelectElement).value)}>
        <option value="all">Notify: all messages</option>
        <option value="mentions">Notify: mentions only</option>
        <option value="none">Notify: nothing</option>
        {muted && <option value="muted">Muted until {new Date(s.muted_until!).toLocaleString()}</option>}
        {MUTE_CHOICES.map((m) => (
          <option key={m.ms} value={`mute:${m.ms}`}>
            Mute {m.label}
          </option>
        ))}
      </select>
      {error && (
        <span class="error" role="alert">
          {error}
        </span>
      )}
    </label>
  );
}
