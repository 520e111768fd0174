// Loopback stand-ins of the three push services Confab sends to, for tests: the real services are
// unreachable from tests (and must not be sent test traffic). Each one implements the documented
// request contract of its provider, validates what it receives with npm packages that share no
// code with Confab (jose for JWTs, http_ece for aes128gcm), answers invalid requests with the
// status and reason the real service documents, and records what it accepted.
//
//   Web Push  HTTPS/1.1  POST /push/<id>                          RFC 8030, RFC 8291, RFC 8292
//   FCM       HTTPS/1.1  POST /token, POST /v1/projects/<p>/messages:send
//                                                                 RFC 7523, RFC 6749, FCM HTTP v1
//   APNs      HTTP/2+TLS POST /3/device/<token>                   Apple, "Sending notification
//                                                                 requests to APNs"
//   control   HTTP/1.1 (plain, loopback)
//     POST /control/subscription {applicationServerKey?} -> {endpoint, expirationTime, keys:{p256dh, auth}}
//     GET (or POST) /control/received -> {webpush:[...], fcm:[...], apns:[...], requests:{webpush, fcm, fcm_token, apns},
//          scripted:[{provider, key, status, delay_ms, hang, apns_id?, answered, gone_after_ms}]}
//     GET /control/counts -> {requests:{webpush, fcm, fcm_token, apns}}
//     POST /control/script {provider: webpush|fcm|fcm_token|apns, match?: substring of the
//          endpoint / registration token / device token,
//          responses:[{status, headers?, body?, delay_ms?} | {hang: true} | {delay_ms}]}
//          the next matching requests get these answers, in order, before any validation;
//          delay_ms: the answer is written that much later (if the client still waits);
//          hang: no answer ever (the request stays open until the client gives up);
//          {delay_ms} alone: the request is handled (validated, recorded) as usual, and its
//          answer is written that much later
//     POST /control/reset   forgets received messages, scripts, counters and issued FCM tokens
//
// Usage: node standins.mjs --cert cert.pem --key key.pem --service-account sa.json
//                          --apns-key apns.p8 --apns-key-id KEYID12345 --apns-team-id TEAMID1234
// Every server binds to 127.0.0.1 on a port the system chooses; once all listen, one JSON line
// {"webpush","fcm","apns","control"} with their base URLs is printed on stdout.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import { parseArgs } from 'node:util';

const ece = (await import('http_ece')).default;
const jose = await import('jose');

const { values: args } = parseArgs({
  options: {
    cert: { type: 'string' }, key: { type: 'string' }, 'service-account': { type: 'string' },
    'apns-key': { type: 'string' }, 'apns-key-id': { type: 'string' }, 'apns-team-id': { type: 'string' },
  },
});
for (const a of ['cert', 'key', 'service-account', 'apns-key', 'apns-key-id', 'apns-team-id']) {
  if (!args[a]) {
    console.error(`standins: --${a} is required`);
    process.exit(2);
  }
}
const tls = { cert: fs.readFileSync(args.cert), key: fs.readFileSync(args.key) };
const sa = JSON.parse(fs.readFileSync(args['service-account'], 'utf8'));
const saPublic = crypto.createPublicKey(sa.private_key);
const apnsPublic = crypto.createPublicKey(fs.readFileSync(args['apns-key']));
const HOST = '127.0.0.1';
const MAX_BODY = 64 * 1024;
const b64u = (buf) => Buffer.from(buf).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

// ------------------------------------------------------------------ state and scripting

let state;
const reset = () => {
  state = {
    received: { webpush: [], fcm: [], apns: [] },
    requests: { webpush: 0, fcm: 0, fcm_token: 0, apns: 0 },
    scripts: [],
    scripted: [],  // every request that got a scripted answer (or none: hang), and what became of it
    accessTokens: new Set(),
    subscriptions: state?.subscriptions ?? new Map(),
  };
};
reset();

// The next scripted answer for this provider and key, if any.
const scripted = (provider, key) => {
  const s = state.scripts.find((x) => x.provider === provider && (!x.match || key.includes(x.match)) && x.responses.length);
  return s ? s.responses.shift() : null;
};

// Which TLS connection (HTTP/1.1) or HTTP/2 session a request came on, so tests can see reuse.
let connections = 0;
const numberConnection = (server, event) => server.on(event, (c) => { c.standinConnection = ++connections; });
const connectionOf = (req) => (req.stream?.session ?? req.socket).standinConnection;

const readBody = (req) => new Promise((resolve, reject) => {
  const chunks = [];
  let size = 0;
  req.on('data', (c) => {
    size += c.length;
    if (size <= MAX_BODY) chunks.push(c);
  });
  req.on('end', () => resolve(Buffer.concat(chunks)));
  req.on('error', reject);
});

// Works for http/https responses and for the HTTP/2 compatibility API. A response given a delay
// (delayAnswer) is written that much later, unless the client closed the request meanwhile.
const answer = (res, status, headers = {}, body = '') => {
  if (res.standinDelay > 0) {
    const delay = res.standinDelay;
    res.standinDelay = 0;
    setTimeout(() => {
      if (!res.standinClosed && !res.writableEnded) answer(res, status, headers, body);
    }, delay);
    return;
  }
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { ...(text && typeof body !== 'string' ? { 'content-type': 'application/json' } : {}), ...headers });
  res.end(text);
};
const delayAnswer = (res, ms) => {
  res.standinDelay = ms;
  res.on('close', () => { res.standinClosed = true; });
};
// A script entry that only delays ({delay_ms}): the request is handled as usual, and its answer
// written that much later.
const onlyDelays = (s) => s.status === undefined && s.hang !== true && Number.isFinite(s.delay_ms) && s.delay_ms > 0;
// A scripted answer: at once, after s.delay_ms, or never (s.hang); returns true. Each is recorded
// in state.scripted with whether the answer was written (answered) and, when the client closed the
// request (stream or connection) before that, after how many milliseconds (gone_after_ms): a
// client's timeout shows there. An entry that only delays is not an answer: it sets the delay of
// the usual one and returns false.
const answerScripted = (res, provider, key, s, extra = {}) => {
  if (onlyDelays(s)) {
    delayAnswer(res, s.delay_ms);
    return false;
  }
  const hang = s.hang === true;
  const delay = Number.isFinite(s.delay_ms) && s.delay_ms > 0 ? s.delay_ms : 0;
  const entry = { provider, key, status: hang ? null : s.status, delay_ms: delay, hang, ...extra, answered: false, gone_after_ms: null };
  state.scripted.push(entry);
  const started = Date.now();
  let closed = false;
  res.on('close', () => {
    closed = true;
    if (!entry.answered) entry.gone_after_ms = Date.now() - started;
  });
  const send = () => {
    if (closed || res.destroyed || res.writableEnded) return;
    entry.answered = true;
    answer(res, s.status, s.headers ?? {}, s.body ?? '');
  };
  if (hang) return true;
  if (delay > 0) setTimeout(send, delay);
  else send();
  return true;
};

// ------------------------------------------------------------------ Web Push (RFC 8030/8291/8292)

let webpushBase;

const checkVapid = async (authorization, sub) => {
  // RFC 8292 section 3: Authorization: vapid t=<JWT>, k=<uncompressed P-256 key, base64url>.
  const m = /^vapid\s+(.*)$/i.exec(authorization ?? '');
  if (!m) return [401, 'missing VAPID authorization'];  // RFC 8292 section 4: 401 when authentication is required
  const params = Object.fromEntries(m[1].split(',').map((p) => p.trim().split('=')).map(([k, ...v]) => [k, v.join('=')]));
  if (!params.t || !params.k) return [401, 'vapid: t= and k= are required'];
  const point = Buffer.from(params.k, 'base64url');
  if (point.length !== 65 || point[0] !== 4) return [403, 'vapid: k is not an uncompressed P-256 point'];
  // RFC 8292 section 4.2: a subscription restricted to a key accepts only that key (403 otherwise).
  if (sub.applicationServerKey && sub.applicationServerKey !== params.k) return [403, 'vapid: k does not match the subscription'];
  try {
    const key = await jose.importJWK({ kty: 'EC', crv: 'P-256', x: b64u(point.subarray(1, 33)), y: b64u(point.subarray(33)) }, 'ES256');
    const { payload } = await jose.jwtVerify(params.t, key, { algorithms: ['ES256'], audience: webpushBase });
    // RFC 8292 section 2: exp no more than 24 hours ahead; sub a mailto: or https: contact.
    if (typeof payload.exp !== 'number' || payload.exp > now() + 24 * 3600) return [403, 'vapid: exp more than 24 h ahead'];
    if (typeof payload.sub !== 'string' || !/^(mailto:|https:)/.test(payload.sub)) return [403, 'vapid: sub must be mailto: or https:'];
  } catch (e) {
    return [403, `vapid: ${e.code ?? ''} ${e.message}`];  // RFC 8292 section 4.2: 403 for a bad JWT
  }
  return null;
};

const webpush = async (req, res) => {
  const m = /^\/push\/([A-Za-z0-9_-]+)$/.exec(req.url);
  const body = await readBody(req);
  state.requests.webpush += 1;
  const endpoint = `${webpushBase}${req.url}`;
  const s = scripted('webpush', endpoint);
  if (s && answerScripted(res, 'webpush', endpoint, s)) return;
  if (req.method !== 'POST') return answer(res, 405, {}, 'POST only');
  const sub = m && state.subscriptions.get(m[1]);
  if (!sub) return answer(res, 404, {}, 'no such subscription');  // RFC 8030 section 7.3 (gone subscriptions: 404/410)
  const bad = await checkVapid(req.headers.authorization, sub);
  if (bad) return answer(res, bad[0], {}, bad[1]);
  // RFC 8030 section 5.2: the TTL header is required; 400 without it.
  if (!/^\d+$/.test(req.headers.ttl ?? '')) return answer(res, 400, {}, 'TTL header required');
  // RFC 8030 section 5.3 (Urgency values) and 5.4 (Topic: at most 32 base64url characters).
  if (req.headers.urgency && !['very-low', 'low', 'normal', 'high'].includes(req.headers.urgency)) return answer(res, 400, {}, 'bad Urgency');
  if (req.headers.topic && !/^[A-Za-z0-9_-]{1,32}$/.test(req.headers.topic)) return answer(res, 400, {}, 'bad Topic');
  // RFC 8030 section 7.2: at least 4096 bytes must be accepted; 413 beyond what is.
  if (body.length > 4096) return answer(res, 413, {}, 'payload too large');
  // RFC 8291 section 4: the aes128gcm content coding.
  if (req.headers['content-encoding'] !== 'aes128gcm') return answer(res, 400, {}, 'Content-Encoding must be aes128gcm');
  let plaintext;
  try {
    plaintext = ece.decrypt(body, { version: 'aes128gcm', privateKey: sub.ecdh, authSecret: b64u(sub.auth) }).toString('utf8');
  } catch (e) {
    return answer(res, 400, {}, `cannot decrypt: ${e.message}`);
  }
  state.received.webpush.push({
    connection: connectionOf(req), endpoint, payload: plaintext, ttl: req.headers.ttl, urgency: req.headers.urgency ?? null, topic: req.headers.topic ?? null,
  });
  // RFC 8030 section 5: 201 Created with the message's Location.
  answer(res, 201, { location: `${webpushBase}/message/${crypto.randomUUID()}` });
};

const newSubscription = (opts) => {
  const id = b64u(crypto.randomBytes(12));
  const ecdh = crypto.createECDH('prime256v1');
  ecdh.generateKeys();
  const auth = crypto.randomBytes(16);
  state.subscriptions.set(id, { ecdh, auth, applicationServerKey: opts.applicationServerKey ?? null });
  // PushSubscription.toJSON()'s shape.
  return { endpoint: `${webpushBase}/push/${id}`, expirationTime: null, keys: { p256dh: b64u(ecdh.getPublicKey()), auth: b64u(auth) } };
};

// ------------------------------------------------------------------ FCM (OAuth 2.0 + HTTP v1)

let fcmBase;
const googleError = (code, status, message, details) => ({ error: { code, message, status, ...(details ? { details } : {}) } });

const fcmToken = async (req, res) => {
  const form = new URLSearchParams((await readBody(req)).toString('utf8'));
  state.requests.fcm_token += 1;
  const s = scripted('fcm_token', '');
  if (s && answerScripted(res, 'fcm_token', '', s)) return;
  // RFC 7523 section 2.1 (grant type) and 3 (claims); errors as RFC 6749 section 5.2.
  const grant = (description) => answer(res, 400, {}, { error: 'invalid_grant', error_description: description });
  if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
    return answer(res, 400, {}, { error: 'unsupported_grant_type', error_description: 'grant_type' });
  }
  try {
    const { payload, protectedHeader } = await jose.jwtVerify(form.get('assertion') ?? '', saPublic, {
      algorithms: ['RS256'], issuer: sa.client_email, audience: `${fcmBase}/token`,
    });
    if (sa.private_key_id && protectedHeader.kid !== sa.private_key_id) return grant('kid is not the key id');
    if (!String(payload.scope ?? '').split(' ').includes('https://www.googleapis.com/auth/firebase.messaging')) return grant('scope');
    // Google accepts assertions valid for at most one hour.
    if (typeof payload.iat !== 'number' || typeof payload.exp !== 'number' || payload.exp - payload.iat > 3600) return grant('exp - iat over 1 h');
  } catch (e) {
    return grant(`${e.code ?? ''} ${e.message}`);
  }
  const token = `ya29.standin-${b64u(crypto.randomBytes(18))}`;
  state.accessTokens.add(token);
  answer(res, 200, {}, { access_token: token, expires_in: 3599, token_type: 'Bearer' });
};

const allStrings = (o) => o && typeof o === 'object' && !Array.isArray(o) && Object.values(o).every((v) => typeof v === 'string');

const fcmSend = async (req, res, project) => {
  const raw = (await readBody(req)).toString('utf8');
  state.requests.fcm += 1;
  let body = null;
  try { body = JSON.parse(raw); } catch { /* answered below */ }
  const token = body?.message?.token;
  const s = scripted('fcm', typeof token === 'string' ? token : '');
  if (s && answerScripted(res, 'fcm', typeof token === 'string' ? token : '', s)) return;
  // FCM HTTP v1: OAuth 2.0 bearer token, else 401 UNAUTHENTICATED.
  const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
  if (!bearer || !state.accessTokens.has(bearer[1])) {
    return answer(res, 401, {}, googleError(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.'));
  }
  // A project other than the service account's: 403 PERMISSION_DENIED (SENDER_ID_MISMATCH).
  if (project !== sa.project_id) {
    return answer(res, 403, {}, googleError(403, 'PERMISSION_DENIED', 'SenderId mismatch',
      [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode: 'SENDER_ID_MISMATCH' }]));
  }
  const invalid = (field, message) => answer(res, 400, {}, googleError(400, 'INVALID_ARGUMENT', message, [
    { '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode: 'INVALID_ARGUMENT' },
    { '@type': 'type.googleapis.com/google.rpc.BadRequest', fieldViolations: [{ field, description: message }] },
  ]));
  if (!body || typeof body.message !== 'object') return invalid('message', 'Invalid JSON payload received.');
  // messages:send: exactly one target, a registration token here.
  if (typeof token !== 'string' || !/^[A-Za-z0-9_:-]+$/.test(token)) return invalid('message.token', 'The registration token is not a valid FCM registration token');
  // Message.data is a map<string, string>.
  if (body.message.data !== undefined && !allStrings(body.message.data)) return invalid('message.data', 'Invalid value at \'message.data\': data values must be strings');
  if (body.message.android?.priority && !['HIGH', 'NORMAL'].includes(body.message.android.priority)) return invalid('message.android.priority', 'Invalid priority');
  state.received.fcm.push({ connection: connectionOf(req), http_version: req.httpVersion, token, message: body.message, received_ms: Date.now() });
  answer(res, 200, {}, { name: `projects/${project}/messages/${b64u(crypto.randomBytes(9))}` });
};

const fcm = async (req, res) => {
  const send = /^\/v1\/projects\/([^/]+)\/messages:send$/.exec(req.url);
  if (req.method === 'POST' && req.url.split('?')[0] === '/token') return fcmToken(req, res);
  if (req.method === 'POST' && send) return fcmSend(req, res, send[1]);
  await readBody(req);
  answer(res, 404, {}, googleError(404, 'NOT_FOUND', 'not found'));
};

// ------------------------------------------------------------------ APNs (HTTP/2, token auth)

const APNS_PUSH_TYPES = ['alert', 'background', 'location', 'voip', 'complication', 'fileprovider', 'mdm', 'liveactivity', 'pushtotalk'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// Apple's provider-token rules: ES256, kid = the key's id, iss = the team id, iat within the hour.
const checkProviderToken = async (authorization) => {
  const m = /^bearer (.+)$/i.exec(authorization ?? '');
  if (!m) return 'MissingProviderToken';
  try {
    const { payload, protectedHeader } = await jose.jwtVerify(m[1], apnsPublic, { algorithms: ['ES256'], issuer: args['apns-team-id'] });
    if (protectedHeader.kid !== args['apns-key-id']) return 'InvalidProviderToken';
    if (typeof payload.iat !== 'number') return 'InvalidProviderToken';
    if (payload.iat < now() - 3600) return 'ExpiredProviderToken';
  } catch {
    return 'InvalidProviderToken';
  }
  return null;
};

// Checks in the order of Apple's table of error reasons; returns [status, reason] or null.
const checkApnsHeaders = (h, token, body) => {
  if (!/^[0-9a-f]{64,200}$/i.test(token)) return [400, 'BadDeviceToken'];
  if (!h['apns-topic']) return [400, 'MissingTopic'];
  if (!APNS_PUSH_TYPES.includes(h['apns-push-type'])) return [400, 'InvalidPushType'];
  if (h['apns-id'] !== undefined && !UUID.test(h['apns-id'])) return [400, 'BadMessageId'];
  if (h['apns-priority'] !== undefined && !['1', '5', '10'].includes(h['apns-priority'])) return [400, 'BadPriority'];
  if (h['apns-expiration'] !== undefined && !/^\d+$/.test(h['apns-expiration'])) return [400, 'BadExpirationDate'];
  if (h['apns-collapse-id'] !== undefined && Buffer.byteLength(h['apns-collapse-id']) > 64) return [400, 'BadCollapseId'];
  if (body.length === 0) return [400, 'PayloadEmpty'];
  if (body.length > 4096) return [413, 'PayloadTooLarge'];
  return null;
};

const apns = async (req, res) => {
  const body = await readBody(req);
  state.requests.apns += 1;
  const m = /^\/3\/device\/([^/?]+)$/.exec(req.url);
  const token = m ? m[1] : '';
  const id = req.headers['apns-id'] ?? crypto.randomUUID();
  const fail = (status, reason) => answer(res, status, { 'apns-id': id }, { reason, ...(status === 410 ? { timestamp: Date.now() } : {}) });
  const s = scripted('apns', token);
  const withId = s && { ...s, headers: { 'apns-id': id, ...(s.headers ?? {}) } };
  if (s && answerScripted(res, 'apns', token, withId, { apns_id: req.headers['apns-id'] ?? null })) return;
  if (req.method !== 'POST') return fail(405, 'MethodNotAllowed');
  if (!m) return fail(404, 'BadPath');
  const tokenError = await checkProviderToken(req.headers.authorization);
  if (tokenError) return fail(403, tokenError);
  const bad = checkApnsHeaders(req.headers, token, body);
  if (bad) return fail(...bad);
  let payload;
  try { payload = JSON.parse(body.toString('utf8')); } catch { return fail(400, 'PayloadEmpty'); }
  if (typeof payload?.aps !== 'object') return fail(400, 'PayloadEmpty');
  const pick = (...names) => Object.fromEntries(names.filter((n) => req.headers[n] !== undefined).map((n) => [n, req.headers[n]]));
  state.received.apns.push({
    connection: connectionOf(req), device_token: token, http_version: req.httpVersion, payload, received_ms: Date.now(),
    headers: pick('apns-id', 'apns-topic', 'apns-push-type', 'apns-priority', 'apns-expiration', 'apns-collapse-id'),
  });
  answer(res, 200, { 'apns-id': id });
};

// ------------------------------------------------------------------ control

const control = async (req, res) => {
  const raw = (await readBody(req)).toString('utf8');
  let body = {};
  try { body = raw ? JSON.parse(raw) : {}; } catch { return answer(res, 400, {}, { error: 'not JSON' }); }
  if (req.method === 'POST' && req.url === '/control/subscription') return answer(res, 200, {}, newSubscription(body));
  if ((req.method === 'GET' || req.method === 'POST') && req.url === '/control/received') return answer(res, 200, {}, { ...state.received, requests: state.requests, scripted: state.scripted });
  // Only the counts: cheap to poll while tens of thousands of pushes arrive (bench/push_throughput.sh).
  if (req.method === 'GET' && req.url === '/control/counts') return answer(res, 200, {}, { requests: state.requests });
  if (req.method === 'POST' && req.url === '/control/reset') {
    reset();
    return answer(res, 200, {}, {});
  }
  if (req.method === 'POST' && req.url === '/control/script') {
    if (!['webpush', 'fcm', 'fcm_token', 'apns'].includes(body.provider) || !Array.isArray(body.responses)) {
      return answer(res, 400, {}, { error: 'provider and responses[] required' });
    }
    state.scripts.push({ provider: body.provider, match: body.match ?? '', responses: [...body.responses] });
    return answer(res, 200, {}, {});
  }
  answer(res, 404, {}, { error: 'not found' });
};

// ------------------------------------------------------------------ start

const guard = (handler) => (req, res) => handler(req, res).catch((e) => {
  console.error('standins:', e);
  if (!res.headersSent) answer(res, 500, {}, 'stand-in error');
});
const listen = (server) => new Promise((resolve) => server.listen(0, HOST, () => resolve(server.address().port)));

const servers = {
  webpush: https.createServer(tls, guard(webpush)),
  // FCM's HTTP v1 API takes HTTP/2 (one connection multiplexes the sends) and HTTP/1.1.
  fcm: http2.createSecureServer({ ...tls, allowHTTP1: true }, guard(fcm)),
  // APNs speaks HTTP/2 only (no HTTP/1.1 fallback).
  apns: http2.createSecureServer({ ...tls, allowHTTP1: false }, guard(apns)),
};
numberConnection(servers.webpush, 'secureConnection');
numberConnection(servers.fcm, 'secureConnection');  // HTTP/1.1 clients
numberConnection(servers.fcm, 'session');           // HTTP/2 clients
numberConnection(servers.apns, 'session');
const ports = {
  webpush: await listen(servers.webpush),
  fcm: await listen(servers.fcm),
  apns: await listen(servers.apns),
  control: await listen(http.createServer(guard(control))),
};
webpushBase = `https://${HOST}:${ports.webpush}`;
fcmBase = `https://${HOST}:${ports.fcm}`;
process.on('SIGTERM', () => process.exit(0));
console.log(JSON.stringify({
  webpush: webpushBase, fcm: fcmBase, apns: `https://${HOST}:${ports.apns}`, control: `http://${HOST}:${ports.control}`,
}));
