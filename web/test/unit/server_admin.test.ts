// The Message trace field's parsing (a trace id, conversation:seq, or sender/client id) and how a
// trace's hops, a failed send's included, are put into words.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  hopDetails,
  hopFailure,
  MAX_CLIENT_ID_BYTES,
  parseTraceInput,
  parseTraceKey,
  ServerAdmin,
  TRACE_INPUT_HINT,
  TraceHop,
  traceFailure,
} from '../../src/lib/server_admin';

test('a trace id: digits, blanks around ignored', () => {
  assert.deepEqual(parseTraceInput('12345'), { key: { trace_id: 12345 } });
  assert.deepEqual(parseTraceKey(' 12345 '), { trace_id: 12345 });
  assert.deepEqual(parseTraceKey(String(Number.MAX_SAFE_INTEGER)), { trace_id: Number.MAX_SAFE_INTEGER });
});

test('a message: conversation:seq, or the two separated by a blank', () => {
  assert.deepEqual(parseTraceInput('7:12'), { key: { conv: 7, seq: 12 } });
  assert.deepEqual(parseTraceKey('7 12'), { conv: 7, seq: 12 });
  assert.deepEqual(parseTraceKey(' 7 : 12 '), { conv: 7, seq: 12 });
});

test('a send: username/client id, split at the first slash', () => {
  assert.deepEqual(parseTraceInput('alice/3f2a-77'), { key: { username: 'alice', client_id: '3f2a-77' } });
  assert.deepEqual(parseTraceKey('  alice / x '), { username: 'alice', client_id: ' x' }, 'blanks around the name go; the client id is kept as typed');
  assert.deepEqual(parseTraceKey('bob/a/b'), { username: 'bob', client_id: 'a/b' }, 'a client id may hold a slash');
  assert.deepEqual(parseTraceKey('bob/7:12'), { username: 'bob', client_id: '7:12' }, 'a slash makes it a send, whatever follows');
  assert.deepEqual(parseTraceKey('bob/m'), { username: 'bob', client_id: 'm' }, 'one byte is enough');
  const max = 'x'.repeat(MAX_CLIENT_ID_BYTES);
  assert.deepEqual(parseTraceKey(`bob/${max}`), { username: 'bob', client_id: max }, '64 bytes is the most');
  const maxUtf8 = 'é'.repeat(MAX_CLIENT_ID_BYTES / 2); // 32 characters, 64 bytes
  assert.deepEqual(parseTraceKey(`bob/${maxUtf8}`), { username: 'bob', client_id: maxUtf8 });
  // Which usernames exist, or are well-formed, is the server's to say.
  assert.deepEqual(parseTraceKey('12/x'), { username: '12', client_id: 'x' });
});

test('refused: empty, half a pair, half a sender/client id, an over-long client id, garbage; each with its reason', () => {
  const refused = (text: string, why: string | RegExp) => {
    const r = parseTraceInput(text);
    assert.equal(r.key, null, `${JSON.stringify(text)} is refused`);
    if (typeof why === 'string') assert.equal(r.error, why, JSON.stringify(text));
    else assert.match(r.error ?? '', why, JSON.stringify(text));
    assert.equal(parseTraceKey(text), null);
  };
  refused('', TRACE_INPUT_HINT);
  refused('   ', TRACE_INPUT_HINT);
  refused('7:', 'Enter the seq after the “:”, as 7:12.');
  refused(':12', 'Enter the conversation before the “:”, as 7:12.');
  refused(':', TRACE_INPUT_HINT);
  refused('/x', 'Enter the sender’s username before the “/”, as alice/3f2a-77.');
  refused(' /x', 'Enter the sender’s username before the “/”, as alice/3f2a-77.');
  refused('alice/', 'Enter the client id of the send after the “/”, as alice/3f2a-77.');
  refused('/', /before the “\/”/);
  refused(`bob/${'x'.repeat(MAX_CLIENT_ID_BYTES + 1)}`, 'A client id is at most 64 bytes; this one is 65 bytes.');
  // Bytes, not characters: 33 two-byte characters are 66 bytes.
  refused(`bob/${'é'.repeat(33)}`, 'A client id is at most 64 bytes; this one is 66 bytes.');
  refused(`bob/${'🙂'.repeat(17)}`, 'A client id is at most 64 bytes; this one is 68 bytes.');
  refused('0', 'A trace id is a whole number from 1 up.');
  refused('99999999999999999999', 'A trace id is a whole number from 1 up.');
  refused('7:0', /^A conversation and a seq are whole numbers from 1 up/);
  refused('0:3', /^A conversation and a seq are whole numbers from 1 up/);
  for (const garbage of ['abc', 'not a key', '-5', '1.5', '7:12:3', '7;12', 'x:1', '#12'])
    refused(garbage, TRACE_INPUT_HINT);
});

test('admin_trace is asked with the key as parsed', async () => {
  const asked: [string, unknown][] = [];
  const admin = new ServerAdmin(
    async <T>(op: string, body: unknown) => {
      asked.push([op, body]);
      return { trace_id: 5, total_us: 0, hops: [], mermaid: '', missing: [] } as T;
    },
    () => {},
  );
  await admin.trace(parseTraceKey('alice/3f2a-77')!);
  await admin.trace(parseTraceKey('7:12')!);
  await admin.trace(parseTraceKey('5')!);
  assert.deepEqual(asked, [
    ['admin_trace', { username: 'alice', client_id: '3f2a-77' }],
    ['admin_trace', { conv: 7, seq: 12 }],
    ['admin_trace', { trace_id: 5 }],
  ]);
});

test('a failed send’s hop gives its error code and message; other hops their attributes', () => {
  const received: TraceHop = { hop: 'received', node: 'n1', at_us: 1, user: 3, device: 4, client_id: 'm-1', via: 'websocket' };
  const failed: TraceHop = { hop: 'failed', node: 'n1', at_us: 9, error: 'forbidden', message: 'you are muted', conv: 7 };
  assert.equal(hopDetails(received), 'user 3 · device 4 · client_id m-1 · via websocket');
  assert.equal(hopFailure(received), null);
  assert.deepEqual(hopFailure(failed), { error: 'forbidden', message: 'you are muted' });
  assert.equal(hopDetails(failed, ['error', 'message']), 'conv 7', 'the rest, besides the error and message');
  assert.deepEqual(traceFailure({ hops: [received, failed] }), { error: 'forbidden', message: 'you are muted' });
  assert.equal(traceFailure({ hops: [received] }), null);
  assert.deepEqual(hopFailure({ hop: 'failed', node: 'n1', at_us: 2 }), { error: 'unknown error', message: '' }, 'attributes missing');
  assert.equal(hopDetails({ hop: 'x', node: 'n', at_us: 0, list: [1, 2], none: null }), 'list [1,2] · none null');
});
