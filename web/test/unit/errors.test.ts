import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError } from '../../src/lib/types';
import { errorText } from '../../src/ui/errors';

test('a refusal says why, as the server put it, with times as people read them', () => {
  assert.equal(errorText(new ApiError('forbidden', 'user 3 is banned from this conversation', false)), 'Not allowed: user 3 is banned from this conversation.');
  const until = Date.UTC(2026, 11, 1, 12, 0);
  const muted = errorText(new ApiError('forbidden', `muted in this conversation until ${until}`, false));
  assert.equal(muted, `Not allowed: muted in this conversation until ${new Date(until).toLocaleString()}.`);
  assert.equal(errorText(new ApiError('forbidden', '', false)), 'You are not allowed to do that here.');
  assert.match(errorText(new ApiError('slow_mode', 'slow mode: one message per 30 s; wait 12 s', false)), /^Slow mode: one message per 30 s; wait 12 s\.$/);
});
