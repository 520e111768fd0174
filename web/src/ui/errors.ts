// Plain-language text for typed errors shown in the UI.
import { ApiError } from '../lib/types';

export function errorText(e: unknown): string {
  if (!(e instanceof ApiError)) return 'Something went wrong. Please try again.';
  switch (e.code) {
    case 'invalid_credentials':
      return 'Wrong username or password.';
    case 'conflict':
      return e.message === 'username is taken' ? 'That username is taken. Choose another one.' : capitalise(e.message) + '.';
    case 'rate_limited':
      return 'Too many requests. Wait a moment and try again.';
    case 'disconnected':
    case 'timeout':
      return 'Cannot reach the server. Check your connection and try again.';
    case 'unavailable':
      return 'The server is busy or restarting. Try again in a moment.';
    case 'forbidden':
      // The server says why (banned, muted until when, admins only, ...): keep that.
      return e.message ? `Not allowed: ${readableTimes(e.message)}.` : 'You are not allowed to do that here.';
    case 'slow_mode':
      return capitalise(e.message) + (e.message.endsWith('.') ? '' : '.');
    case 'not_found':
      return capitalise(e.message) + '.';
    default:
      return capitalise(e.message) + (e.message.endsWith('.') ? '' : '.');
  }
}

/** "muted ... until 1764560000000" with the time as people read it. */
function readableTimes(s: string): string {
  return s.replace(/until (\d{12,})/g, (_, ms: string) => `until ${new Date(Number(ms)).toLocaleString()}`);
}

function capitalise(s: string): string {
  return s ? s[0].toUpperCase() + s.slice(1) : s;
}
