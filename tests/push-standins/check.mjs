// Independent checks of Confab's push output (issue 15). This script plays the other side of
// each provider with npm packages that share no code with Confab: it makes a Web Push
// subscription (its own P-256 key pair and auth secret), the VAPID, FCM service-account and APNs
// keys; runs the C++ push_samples program on them; then decrypts the aes128gcm body with http_ece
// and verifies every JWT with jose. These are stand-ins for the real push services, which tests
// cannot reach.
//
// Usage: node check.mjs <path to push_samples>   (after `npm ci` in this folder)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

let ece, jose;
try {
  ece = (await import('http_ece')).default;
  jose = await import('jose');
} catch (e) {
  console.error(`push stand-ins: npm packages missing (run npm ci in ${path.dirname(new URL(import.meta.url).pathname)}): ${e.message}`);
  process.exit(1);
}

const binary = process.argv[2];
if (!binary) {
  console.error('usage: node check.mjs <push_samples>');
  process.exit(2);
}

const now = Math.floor(Date.now() / 1000);
const b64u = (buf) => Buffer.from(buf).toString('base64url');
const pemPair = (type, opts) => crypto.generateKeyPairSync(type, {
  ...opts,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});

// The browser's side of a subscription.
const ua = crypto.createECDH('prime256v1');
ua.generateKeys();
const authSecret = crypto.randomBytes(16);
const endpoint = 'https://127.0.0.1:8443/push/v1/standin-subscription';
const plaintext = JSON.stringify({ type: 'message', conversation_id: 42, seq: 7, unread: 3, preview: 'héllo ✓' });

const vapid = pemPair('ec', { namedCurve: 'P-256' });
const fcm = pemPair('rsa', { modulusLength: 2048 });
const apns = pemPair('ec', { namedCurve: 'P-256' });
const serviceAccount = {
  type: 'service_account',
  project_id: 'confab-standin',
  private_key_id: 'standin-key-1',
  private_key: fcm.privateKey,
  client_email: 'push@confab-standin.iam.gserviceaccount.com',
  token_uri: 'https://127.0.0.1:8444/token',
};

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'confab-push-standins-'));
const input = path.join(dir, 'in.json');
const output = path.join(dir, 'out.json');
fs.writeFileSync(input, JSON.stringify({
  now,
  plaintext,
  subscription: { endpoint, keys: { p256dh: b64u(ua.getPublicKey()), auth: b64u(authSecret) } },
  allowed_origins: ['https://127.0.0.1:8443'],
  vapid_pem: vapid.privateKey,
  vapid_subject: 'mailto:ops@confab.example',
  service_account: serviceAccount,
  apns_pem: apns.privateKey,
  apns_key_id: 'ABC123DEFG',
  apns_team_id: 'DEF123GHIJ',
}));
try {
  execFileSync(binary, [input, output], { stdio: ['ignore', 'inherit', 'inherit'] });
} finally {
  fs.rmSync(input, { force: true });
}
const out = JSON.parse(fs.readFileSync(output, 'utf8'));
fs.rmSync(dir, { recursive: true, force: true });

const decrypt = (body) => ece.decrypt(Buffer.from(body, 'base64url'), {
  version: 'aes128gcm', privateKey: ua, authSecret: b64u(authSecret),
});

test('http_ece decrypts the aes128gcm body with the subscription private key', () => {
  const body = Buffer.from(out.webpush_body, 'base64url');
  assert.equal(body.readUInt32BE(16), 4096);
  assert.equal(body[20], 65);
  assert.equal(decrypt(out.webpush_body).toString('utf8'), plaintext);
});

test('http_ece decrypts the padded body and strips the padding', () => {
  assert.equal(Buffer.from(out.webpush_body_padded, 'base64url').length, Buffer.from(out.webpush_body, 'base64url').length + 100);
  assert.equal(decrypt(out.webpush_body_padded).toString('utf8'), plaintext);
});

test('another subscription key cannot decrypt it', () => {
  const other = crypto.createECDH('prime256v1');
  other.generateKeys();
  assert.throws(() => ece.decrypt(Buffer.from(out.webpush_body, 'base64url'), {
    version: 'aes128gcm', privateKey: other, authSecret: b64u(authSecret),
  }));
});

test('jose verifies the VAPID JWT with the k= key, which is the VAPID public key', async () => {
  const m = /^vapid t=([A-Za-z0-9_.-]+), k=([A-Za-z0-9_-]+)$/.exec(out.vapid_authorization);
  assert.ok(m, out.vapid_authorization);
  const [, jwt, k] = m;
  assert.equal(k, out.vapid_public_key);
  const spki = crypto.createPublicKey(vapid.publicKey).export({ format: 'jwk' });
  const raw = Buffer.from(k, 'base64url');
  assert.equal(raw.length, 65);
  assert.equal(b64u(raw.subarray(1, 33)), spki.x);
  assert.equal(b64u(raw.subarray(33)), spki.y);
  const key = await jose.importJWK({ kty: 'EC', crv: 'P-256', x: spki.x, y: spki.y }, 'ES256');
  const { payload, protectedHeader } = await jose.jwtVerify(jwt, key, {
    algorithms: ['ES256'], audience: 'https://127.0.0.1:8443', subject: 'mailto:ops@confab.example',
  });
  assert.equal(protectedHeader.typ, 'JWT');
  assert.equal(payload.exp, now + 12 * 3600);
  assert.ok(payload.exp - now <= 24 * 3600);
});

test('jose verifies the FCM service-account assertion (RS256)', async () => {
  const { payload, protectedHeader } = await jose.jwtVerify(out.fcm_assertion, crypto.createPublicKey(fcm.publicKey), {
    algorithms: ['RS256'], issuer: serviceAccount.client_email, audience: serviceAccount.token_uri,
  });
  assert.equal(protectedHeader.kid, 'standin-key-1');
  assert.equal(payload.scope, 'https://www.googleapis.com/auth/firebase.messaging');
  assert.equal(payload.iat, now);
  assert.equal(payload.exp, now + 3600);
});

test('the FCM message is data-only with string values and a collapse key', () => {
  const { message } = JSON.parse(out.fcm_message);
  assert.equal(message.token, 'standin-token');
  assert.deepEqual(message.data, { type: 'message', conversation_id: '42', seq: '7', unread: '3' });
  assert.equal(message.android.collapse_key, 'c42');
  assert.equal(message.notification, undefined);
});

test('jose verifies the APNs provider JWT (ES256, kid, iss, iat)', async () => {
  const { payload, protectedHeader } = await jose.jwtVerify(out.apns_jwt, crypto.createPublicKey(apns.publicKey), {
    algorithms: ['ES256'], issuer: 'DEF123GHIJ',
  });
  assert.equal(protectedHeader.kid, 'ABC123DEFG');
  assert.equal(payload.iat, now);
  await assert.rejects(jose.jwtVerify(out.apns_jwt, crypto.createPublicKey(vapid.publicKey), { algorithms: ['ES256'] }));
});
