import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HttpApi } from '../../src/lib/api';
import { ApiError } from '../../src/lib/types';

test('http api posts JSON with the bearer token and returns the result', async () => {
  let seen: { url: string; init: { headers: Record<string, string>; body: string } } | null = null;
  const api = new HttpApi('http://h', async (url, init) => {
    seen = { url, init };
    return { status: 200, text: async () => '{"ok":true}' };
  });
  assert.deepEqual(await api.call('logout', {}, 'TOK'), { ok: true });
  assert.equal(seen!.url, 'http://h/v1/logout');
  assert.equal(seen!.init.headers.Authorization, 'Bearer TOK');
});

test('http api turns error bodies and network failures into typed errors', async () => {
  const api = new HttpApi('', async () => ({
    status: 401,
    text: async () => '{"error":{"code":"invalid_credentials","message":"wrong username or password","retryable":false}}',
  }));
  await assert.rejects(api.call('login', {}), (e: ApiError) => e.code === 'invalid_credentials' && e.status === 401);
  const down = new HttpApi('', async () => {
    throw new TypeError('fetch failed');
  });
  await assert.rejects(down.call('me', {}), (e: ApiError) => e.code === 'disconnected' && e.retryable);
});
