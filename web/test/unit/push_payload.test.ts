// The service worker's handling of push payloads (lib/push_payload.ts), as pure functions.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  conversationFromHash,
  conversationOf,
  conversationUrl,
  notificationFor,
  parsePush,
  parseWorkerMessage,
  toClose,
} from '../../src/lib/push_payload';

test('payloads as the server sends them, with and without previews', () => {
  assert.deepEqual(parsePush('{"type":"message","conversation_id":7,"seq":42,"unread":3}'), { type: 'message', conv: 7, seq: 42, unread: 3 });
  assert.deepEqual(parsePush('{"type":"message","conversation_id":7,"seq":42,"unread":3,"sender":"Ana","preview":"hi there"}'), {
    type: 'message',
    conv: 7,
    seq: 42,
    unread: 3,
    sender: 'Ana',
    preview: 'hi there',
  });
  assert.deepEqual(parsePush('{"type":"clear","conversation_id":7,"seq":44,"unread":0}'), { type: 'clear', conv: 7, seq: 44, unread: 0 });
  // Unknown members are ignored; a missing unread counts as 0.
  assert.deepEqual(parsePush('{"type":"clear","conversation_id":1,"seq":1,"extra":true}'), { type: 'clear', conv: 1, seq: 1, unread: 0 });
});

test('malformed payloads are ignored, never thrown', () => {
  for (const bad of [
    null,
    undefined,
    '',
    'hello',
    '{',
    'null',
    '[]',
    '42',
    '{"type":"message"}',
    '{"type":"other","conversation_id":1,"seq":1,"unread":0}',
    '{"type":"message","conversation_id":"7","seq":1,"unread":0}',
    '{"type":"message","conversation_id":0,"seq":1,"unread":0}',
    '{"type":"message","conversation_id":7,"seq":-1,"unread":0}',
    '{"type":"message","conversation_id":7,"seq":1.5,"unread":0}',
    '{"type":"message","conversation_id":7,"seq":1,"unread":"3"}',
    '{"type":"message","conversation_id":1e300,"seq":1,"unread":0}',
  ])
    assert.equal(parsePush(bad), null, String(bad));
  // Wrong-typed optional members are dropped, not trusted.
  assert.deepEqual(parsePush('{"type":"message","conversation_id":7,"seq":1,"unread":1,"sender":5,"preview":{}}'), { type: 'message', conv: 7, seq: 1, unread: 1 });
});

test('title and body: the sender and preview when sent, a generic text otherwise; one tag per conversation', () => {
  const plain = notificationFor(parsePush('{"type":"message","conversation_id":7,"seq":42,"unread":3}')!);
  assert.deepEqual(plain, {
    title: 'New message',
    options: { body: 'You have a new message', tag: 'c7', renotify: true, data: { conv: 7, seq: 42 } },
  });
  const rich = notificationFor(parsePush('{"type":"message","conversation_id":7,"seq":43,"unread":4,"sender":"Ana","preview":"lunch?"}')!);
  assert.equal(rich.title, 'Ana');
  assert.equal(rich.options.body, 'lunch?');
  assert.equal(rich.options.tag, 'c7');
});

test('a clear closes its conversation’s notifications up to its seq, and no others', () => {
  const shown = [
    { tag: 'c7', data: { conv: 7, seq: 42 } },
    { tag: 'c7', data: { conv: 7, seq: 50 } },
    { tag: 'c70', data: { conv: 70, seq: 1 } },
    { tag: 'c8', data: { conv: 8, seq: 1 } },
    { tag: 'c7', data: null }, // without data (not ours to keep apart): closed with its conversation
  ];
  const clear = parsePush('{"type":"clear","conversation_id":7,"seq":44,"unread":1}')!;
  assert.deepEqual(toClose(shown, clear), [shown[0], shown[4]]);
  assert.deepEqual(toClose(shown, { ...clear, seq: 50 }), [shown[0], shown[1], shown[4]]);
  assert.deepEqual(toClose([], clear), []);
});

test('deep links and the worker’s messages', () => {
  assert.equal(conversationUrl(12), '/#conv=12');
  assert.equal(conversationFromHash('#conv=12'), 12);
  for (const h of ['', '#', '#conv=', '#conv=0', '#conv=abc', '#conv=12&x', '#other=1']) assert.equal(conversationFromHash(h), null, h);
  assert.equal(conversationOf({ conv: 3, seq: 1 }), 3);
  assert.equal(conversationOf(null), null);
  assert.equal(conversationOf({ conv: '3' }), null);
  assert.deepEqual(parseWorkerMessage({ type: 'open', conv: 5 }), { type: 'open', conv: 5 });
  assert.deepEqual(parseWorkerMessage({ type: 'resubscribe' }), { type: 'resubscribe' });
  for (const m of [null, 'open', { type: 'open' }, { type: 'open', conv: -1 }, { type: 'x' }]) assert.equal(parseWorkerMessage(m), null);
});
