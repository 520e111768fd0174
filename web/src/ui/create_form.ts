// What the "New group" and "New channel" forms share: a title field focused before the first
// paint, the check that it is not blank, and the create-then-open step with its error line.
import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import { ChatClient } from '../lib/client';
import { errorText } from './errors';

export function useCreateForm(c: ChatClient, close: () => void, blankTitle: string, create: (title: string) => Promise<number>) {
  const [title, setTitle] = useState('');
  const [error, setError] = useState('');
  const titleInput = useRef<HTMLInputElement>(null);
  useLayoutEffect(() => titleInput.current?.focus(), []);
  async function submit(e: Event) {
    e.preventDefault();
    if (!title.trim()) {
      setError(blankTitle);
      return;
    }
    try {
      const conv = await create(title.trim());
      close();
      await c.open(conv);
    } catch (err) {
      setError(errorText(err));
    }
  }
  return { title, setTitle, error, titleInput, submit };
}
