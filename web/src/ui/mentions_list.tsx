// The messages that mention me (`mentions`, protocol section 6.2), newest first, paged: each
// opens its conversation, or its thread for a thread reply.
import { useLayoutEffect, useState } from 'preact/hooks';
import { ChatClient } from '../lib/client';
import { displayTitle } from '../lib/conversations';
import { ChatEvent } from '../lib/types';
import { errorText } from './errors';
import { listTime } from './format';
import { version } from './state';

export function MentionsList({ c, close }: { c: ChatClient; close: () => void }) {
  void version.value; // @preact/signals skips re-rendering unchanged props: subscribe here
  const [list, setList] = useState<ChatEvent[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState('');
  async function load(before?: string) {
    try {
      const r = await c.mentions(before);
      setList((old) => [...(before ? (old ?? []) : []), ...r.mentions]);
      setNext(r.next);
    } catch (e) {
      setError(errorText(e));
    }
  }
  useLayoutEffect(() => void load(), []);
  function go(m: ChatEvent) {
    close();
    if (m.thread_root !== undefined) void c.open(m.conv).then(() => c.openThread(m.conv, m.thread_root as number));
    else void c.openAt(m.conv, m.seq);
  }
  return (
    <div>
      <p class="error" role="alert">
        {error}
      </p>
      {list === null && !error && <p class="muted">Loading…</p>}
      {list?.length === 0 && <p class="muted">No one has mentioned you yet.</p>}
      <ul class="results mentions-list" role="list">
        {(list ?? []).map((m) => {
          const s = c.convs.get(m.conv);
          const where = s ? (s.kind === 'direct' ? c.nameOf(m.sender) : displayTitle(s, c.session.user_id)) : `Conversation ${m.conv}`;
          return (
            <li key={`${m.conv}-${m.seq}`} data-conv={m.conv} data-seq={m.seq}>
              <button onClick={() => go(m)}>
                <strong>{where}</strong>
                {m.thread_root !== undefined ? ' (thread)' : ''}
                {': '}
                <span class="who">{c.nameOf(m.sender)}</span>{' '}
                <span dir="auto">{m.deleted ? 'deleted message' : (m.text ?? '').slice(0, 120)}</span>{' '}
                <time class="muted">{listTime(m.ts)}</time>
              </button>
            </li>
          );
        })}
      </ul>
      {next && <button onClick={() => void load(next)}>Show older mentions</button>}
    </div>
  );
}
