// The server's limits that the client checks before sending, so bad input is explained at once.
import { ApiError } from './types';

export const MAX_TEXT_BYTES = 16384; // the server's default --max-text-bytes

/** Throws a typed ApiError for a message text the server would refuse (empty, too long). */
export function checkText(text: string, emptyHint = 'Type a message first.'): void {
  if (text.trim() === '') throw new ApiError('empty', emptyHint, false);
  const bytes = new TextEncoder().encode(text).length;
  if (bytes > MAX_TEXT_BYTES)
    throw new ApiError(
      'text_too_long',
      `This message is too long: ${bytes} bytes, the limit is ${MAX_TEXT_BYTES}. Shorten it or split it into several messages.`,
      false,
    );
}
