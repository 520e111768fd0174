// Channels (protocol section 6.4): the directory of public channels (search by title or topic,
// paged, join or open) and the form that creates a public or private channel.
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { ChatClient } from '../lib/client';
import { ChannelInfo } from '../lib/types';
import { useCreateForm } from './create_form';
import { errorText } from './errors';
import { version } from './state';

type Cursor = { after_title: string; after_conv: number };

export function ChannelDirectory({ c, close, create }: { c: ChatClient; close: () => void; create: () => void }) {
  void version.value; // @preact/signals skips re-rendering unchanged props: subscribe here
  const [q, setQ] = useState('');
  const [list, setList] = useState<ChannelInfo[] | null>(null);
  const [next, setNext] = useState<Cursor | null>(null);
  const [error, setError] = useState('');
  const input = useRef<HTMLInputElement>(null);
  useLayoutEffect(() => input.current?.focus(), []);
  useEffect(() => {
    let live = true;
    const t = setTimeout(async () => {
      try {
        const r = await c.browseChannels(q.trim());
        if (!live) return;
        setList(r.channels);
        setNext(r.next);
        setError('');
      } catch (e) {
        if (live) setError(errorText(e));
      }
    }, 150);
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [q]);

  async function more() {
    if (!next) return;
    try {
      const r = await c.browseChannels(q.trim(), next);
      setList([...(list ?? []), ...r.channels]);
      setNext(r.next);
    } catch (e) {
      setError(errorText(e));
    }
  }

  async function enter(ch: ChannelInfo) {
    setError('');
    try {
      if (!ch.joined) await c.joinChannel(ch.conv);
      close();
      await c.open(ch.conv);
    } catch (e) {
      setError(errorText(e));
    }
  }

  return (
    <div class="channel-directory">
      <label>
        Search channels
        <input ref={input} value={q} maxLength={100} placeholder="Name or topic" onInput={(e) => setQ((e.target as HTMLInputElement).value)} />
      </label>
      <p class="error" role="alert">
        {error}
      </p>
      {list === null ? (
        <p class="muted">Loading…</p>
      ) : list.length === 0 ? (
        <p class="muted">{q.trim() ? 'No public channel matches.' : 'No public channels yet.'}</p>
      ) : (
        <ul class="channels" role="list">
          {list.map((ch) => (
            <li key={ch.conv} data-channel={ch.title}>
              <span class="channel-text">
                <strong># {ch.title}</strong>
                <span class="muted">
                  {ch.member_count} member{ch.member_count === 1 ? '' : 's'}
                  {ch.topic ? ` · ${ch.topic}` : ''}
                </span>
              </span>
              <button onClick={() => void enter(ch)} aria-label={`${ch.joined ? 'Open' : 'Join'} ${ch.title}`}>
                {ch.joined ? 'Open' : 'Join'}
              </button>
            </li>
          ))}
        </ul>
      )}
      {next && <button onClick={() => void more()}>Show more channels</button>}
      <p>
        <button class="primary" onClick={create}>
          New channel
        </button>
      </p>
    </div>
  );
}

export function NewChannel({ c, close }: { c: ChatClient; close: () => void }) {
  void version.value; // @preact/signals skips re-rendering unchanged props: subscribe here
  const [topic, setTopic] = useState('');
  const [visibility, setVisibility] = useState<'public' | 'private'>('public');
  const { title, setTitle, error, titleInput, submit } = useCreateForm(c, close, 'Give the channel a name.', (t) =>
    c.createChannel(t, topic.trim(), visibility),
  );
  return (
    <form onSubmit={submit}>
      <label>
        Name
        <input ref={titleInput} name="title" value={title} maxLength={200} onInput={(e) => setTitle((e.target as HTMLInputElement).value)} />
      </label>
      <label>
        Topic
        <input name="topic" value={topic} maxLength={500} onInput={(e) => setTopic((e.target as HTMLInputElement).value)} />
      </label>
      <fieldset>
        <legend>Who can find it</legend>
        <label class="inline">
          <input type="radio" name="visibility" checked={visibility === 'public'} onChange={() => setVisibility('public')} />
          Public: listed; anyone can join
        </label>
        <label class="inline">
          <input type="radio" name="visibility" checked={visibility === 'private'} onChange={() => setVisibility('private')} />
          Private: only people added by its admins
        </label>
      </fieldset>
      <p class="error" role="alert">
        {error}
      </p>
      <button class="primary" type="submit">
        Create channel
      </button>
    </form>
  );
}
