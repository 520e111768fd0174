// The Administration view: only server administrators (confabd --admin) are offered it; the live
// topology shows the node, its sessions and, from the second poll on, its rates, and (answers
// made up here) a cluster's nodes, Redis masters and load balancers as the nodes report them; a user's
// devices and sessions can be looked up, a device disconnected (it reconnects) or revoked (it is
// signed out); unknown and malformed usernames get a clear message; a traced message's hops are
// shown by trace id or conv:seq, and (answers made up) a failed send found by sender/client id shows
// its error, a session through a load balancer its via.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Browser, Locator, Page } from 'playwright-core';
import { expectAccessible, launch, newUserPage, register, resize, Server, shot, textIs, until } from './harness';

let server: Server;
let browser: Browser;
let root: Page; // a server administrator
let cy: Page; // not one

before(async () => {
  server = new Server(['--admin', 'root']);
  await server.start();
  browser = await launch();
  root = (await newUserPage(browser, server)).page;
  await register(root, 'root');
});

after(async () => {
  await browser?.close();
  await server?.dispose();
});

/** textIs for SVG text (which has no innerText). */
async function svgTextIs(loc: Locator, want: string | RegExp, what: string): Promise<void> {
  await until(`${what} to be ${want}`, async () => {
    const t = ((await loc.allTextContents())[0] ?? '').trim();
    return (typeof want === 'string' ? t === want : want.test(t)) || `"${t}"`;
  });
}

const status = (p: Page) => p.locator('.banner').getAttribute('data-status');
const adminButton = (p: Page) => p.getByRole('button', { name: 'Administration', exact: true });

test('an administrator opens Administration: the topology shows the node, its sessions and, after two polls, its rates', async () => {
  // The second admin_nodes answer is held until the first one has been looked at.
  let release = () => {};
  const held = new Promise<void>((r) => (release = r));
  let asked = 0;
  await root.route('**/v1/admin_nodes', async (route) => {
    if (++asked === 2) await held;
    await route.continue();
  });
  await adminButton(root).click();
  await root.getByRole('heading', { name: 'Administration', level: 2 }).waitFor();
  const focused = await root.evaluate(() => document.activeElement?.textContent);
  assert.equal(focused, 'Administration', 'focus moves to the view');
  const nodes = root.locator('svg.topology g.node');
  await until('one node drawn', async () => (await nodes.count()) === 1 || `${await nodes.count()}`);
  const node = nodes.first();
  assert.equal(await node.getAttribute('data-health'), 'answering');
  // The administrator's own page is the node's one session.
  await svgTextIs(node.locator('text.sessions'), '1 session · 1 user', 'the node’s sessions');
  await svgTextIs(root.locator('svg.topology g.clients'), /1 session/, 'the clients’ side');
  // Rates come from two consecutive answers: none after the first.
  const section = root.locator('section[aria-labelledby="topology-title"]');
  assert.equal(await section.getAttribute('data-polls'), '1');
  await svgTextIs(node.locator('text.rates'), '— ops/s · — sends/s', 'no rates yet');
  await svgTextIs(node.locator('text.load'), /^CPU — · memory \d+(\.\d)? MiB$/, 'no CPU yet');
  release();
  await until('two polls', async () => Number(await section.getAttribute('data-polls')) >= 2);
  await svgTextIs(node.locator('text.rates'), /^\d+(\.\d)?k? ops\/s · \d+(\.\d)? sends\/s$/, 'the node’s rates');
  await svgTextIs(node.locator('text.load'), /^CPU \d+(\.\d)? % · memory \d+(\.\d)? MiB$/, 'CPU and memory');
  await svgTextIs(root.locator('svg.topology g.broker text.title'), 'Broker: in-process', 'the broker');
  await svgTextIs(root.locator('svg.topology g.database text.title'), 'Database: SQLite', 'the database');
  // One node with the in-process broker and no proxy in front: no masters, no load balancer (the
  // same whether the node reports its broker and proxies or is too old to).
  assert.equal(await root.locator('svg.topology g.broker').getAttribute('data-broker'), 'inproc');
  await svgTextIs(root.locator('svg.topology g.broker'), /inside the node: one node only/, 'the in-process broker');
  assert.equal(await root.locator('svg.topology g.shard').count(), 0, 'no Redis masters');
  assert.equal(await root.locator('svg.topology g.load-balancer').count(), 0, 'no load balancer');
  await svgTextIs(root.locator('svg.topology g.clients'), /no load balancer seen/, 'clients straight to the node');
  assert.equal(await root.locator('svg.topology g.node[data-slot-map="differs"]').count(), 0);
  assert.equal(await root.locator('.shards-table, .proxies-table').count(), 0, 'no shards or load balancers tables');
  // The same figures in the table.
  const row = root.locator('.nodes-table tbody tr');
  assert.equal(await row.count(), 1);
  await textIs(row.locator('td.health'), 'answering', 'health in the table');
  await textIs(row.locator('td').nth(3), '1', 'sessions in the table');
  await textIs(row.locator('td').nth(7), /^\d+(\.\d)?k?$/, 'ops/s in the table');
  // The server section: version and configuration.
  await textIs(root.getByTestId('server-version'), /^\d+\.\d+\.\d+/, 'the version');
  await textIs(root.locator('.config-table tr', { has: root.locator('code', { hasText: /^--admin$/ }) }).locator('td'), 'root', 'the admin option');
  await root.unroute('**/v1/admin_nodes');
  await shot(root, 'admin-topology');
  await expectAccessible(root, 'the administration view');
  // On a phone the view takes the screen; the diagram scrolls sideways.
  await resize(root, { width: 390, height: 800 });
  await shot(root, 'admin-topology-phone');
  await expectAccessible(root, 'the administration view on a phone');
  await resize(root, { width: 1100, height: 720 });
});

test('someone who is not a server administrator is not offered Administration', async () => {
  cy = (await newUserPage(browser, server)).page;
  await register(cy, 'cy');
  await root.locator('.shell[data-server-admin="admin"]').waitFor();
  await cy.locator('.shell[data-server-admin="not_admin"]').waitFor(); // admin_server answered forbidden
  assert.equal(await adminButton(cy).count(), 0);
  await until('cy to be live', async () => (await status(cy)) === 'live');
  // ...and the topology counts cy's session too.
  await svgTextIs(root.locator('svg.topology g.node text.sessions'), '2 sessions · 2 users', 'the node’s sessions');
});

/** Records every state cy's banner shows from now on ("offline" may last a moment only). */
async function recordBanner(p: Page): Promise<void> {
  await p.evaluate(() => {
    const w = window as unknown as { __banner: string[] };
    w.__banner = [];
    const b = document.querySelector<HTMLElement>('.banner')!;
    new MutationObserver(() => {
      const v = `${b.getAttribute('data-status')}`;
      if (w.__banner[w.__banner.length - 1] !== v) w.__banner.push(v);
    }).observe(b, { attributes: true, childList: true, subtree: true, characterData: true });
  });
}
const banners = (p: Page) => p.evaluate(() => (window as unknown as { __banner: string[] }).__banner);

test('looking up a user lists their devices and live sessions; Disconnect closes the session and the client reconnects', async () => {
  const lookup = root.locator('section[aria-labelledby="lookup-title"]');
  await lookup.getByLabel('Username').fill('cy');
  await lookup.getByRole('button', { name: 'Look up' }).click();
  const devices = lookup.locator('.devices-table tbody tr');
  const sessions = lookup.locator('.sessions-table tbody tr[data-session-device]');
  await until('cy’s device', async () => (await devices.count()) === 1 || `${await devices.count()}`);
  await textIs(devices.first().locator('th'), /^Chrome on Linux #\d+$/, 'the device');
  await textIs(devices.first().locator('td.status'), 'signed in', 'the device’s status');
  await until('cy’s session', async () => (await sessions.count()) === 1 || `${await sessions.count()}`);
  const cells = await sessions.first().locator('td').allInnerTexts();
  assert.match(cells[1], /^Chrome on Linux #\d+$/, 'the session’s device');
  assert.match(cells[2], /^127\.0\.0\.1:\d+$/, 'the session’s remote');
  assert.equal(cells[3], '—', 'connected directly: no load balancer');
  assert.equal(cells[5], '0 B', 'nothing queued');
  await lookup.locator('.sessions-table').scrollIntoViewIfNeeded();
  await shot(root, 'admin-user');

  await recordBanner(cy);
  await devices.first().getByRole('button', { name: /^Disconnect Chrome on Linux #\d+$/ }).click();
  await textIs(lookup.getByTestId('lookup-outcome'), /^Disconnected “Chrome on Linux” of cy: 1 session closed\./, 'the outcome');
  // cy's client saw its connection closed and connected again.
  await until('cy to lose the connection and come back', async () => {
    const seen = await banners(cy);
    return (seen.some((s) => s !== 'live') && (await status(cy)) === 'live') || seen.join(' → ');
  });
  await lookup.getByRole('button', { name: 'Look up' }).click();
  await until('cy’s new session', async () => (await sessions.count()) === 1 || `${await sessions.count()}`);
});

test('Revoke asks first, then signs the device out', async () => {
  const lookup = root.locator('section[aria-labelledby="lookup-title"]');
  const device = lookup.locator('.devices-table tbody tr').first();
  await device.getByRole('button', { name: /^Revoke Chrome on Linux #\d+$/ }).click();
  const confirm = lookup.getByTestId('confirm');
  await textIs(confirm.locator('strong'), /^Revoke “Chrome on Linux” \(#\d+\) of cy\?$/, 'the confirmation');
  await shot(root, 'admin-revoke-confirm');
  await confirm.getByRole('button', { name: 'Cancel' }).click();
  assert.equal(await confirm.count(), 0);
  await textIs(device.locator('td.status'), 'signed in', 'not revoked on Cancel');
  await device.getByRole('button', { name: /^Revoke Chrome on Linux #\d+$/ }).click();
  await confirm.getByRole('button', { name: 'Revoke', exact: true }).click();
  await textIs(lookup.getByTestId('lookup-outcome'), /^Revoked “Chrome on Linux” of cy/, 'the outcome');
  await textIs(device.locator('td.status'), /^revoked /, 'the device revoked');
  assert.equal(await device.getByRole('button').count(), 0, 'no actions on a revoked device');
  await textIs(cy.locator('.notice'), 'This device was signed out. Sign in again to continue.', 'cy is signed out');
});

test('an unknown or malformed username is said plainly', async () => {
  const lookup = root.locator('section[aria-labelledby="lookup-title"]');
  await lookup.getByLabel('Username').fill('nobody');
  await lookup.getByRole('button', { name: 'Look up' }).click();
  await textIs(lookup.getByTestId('lookup-error'), 'No user is called “nobody”.', 'not found');
  assert.equal(await lookup.locator('.lookup-result').count(), 0);
  await lookup.getByLabel('Username').fill('b b!');
  await lookup.getByRole('button', { name: 'Look up' }).click();
  await textIs(lookup.getByTestId('lookup-error'), /^“b b!” is not a valid username: a username may contain only/, 'invalid');
  await shot(root, 'admin-not-found');
});

test('a traced message is shown hop by hop, by trace id or by conversation and seq', async () => {
  const tracy = await server.api<{ token: string }>('register', { username: 'tracy', password: 'password123' });
  await server.api('register', { username: 'trent', password: 'password123' });
  // Between two other users: the administrator reads any message's trace, and root's own list stays as the next test expects.
  const conv = (await server.api<{ conv: number }>('create_direct', { username: 'trent' }, tracy.token)).conv;
  const sent = await server.api<{ seq: number; trace_id: number }>('send', { conv, client_id: 't1', text: 'follow me', trace: true }, tracy.token);
  assert.ok(sent.trace_id > 0, 'the send was traced');
  const section = root.locator('section[aria-labelledby="trace-title"]');
  const field = section.getByLabel('Trace id, conversation:seq, or sender/client id');
  for (const key of [String(sent.trace_id), `${conv}:${sent.seq}`]) {
    await field.fill(key);
    await section.getByRole('button', { name: 'Trace' }).click();
    const result = section.locator(`.trace-result[data-trace="${sent.trace_id}"]`);
    await result.waitFor();
    for (const hop of ['received', 'committed', 'acked']) await result.locator(`tr[data-hop="${hop}"]`).waitFor();
    assert.match((await section.getByTestId('trace-mermaid').textContent()) ?? '', /^sequenceDiagram\n/);
    // The timeline: one lane (one node), a mark per hop with the time since the hop before.
    const timeline = result.locator('svg.trace-timeline');
    await timeline.locator('g.mark[data-hop="acked"]').waitFor();
    assert.equal(await timeline.locator('g.lane').count(), 1, 'one node, one lane');
    assert.equal(await timeline.locator('g.mark').count(), await result.locator('.trace-table tbody tr').count(), 'a mark per hop');
    await svgTextIs(timeline.locator('g.mark[data-hop="received"] text.duration'), 'start', 'the first hop');
    await svgTextIs(timeline.locator('g.mark[data-hop="acked"] text.duration'), /^\+\d+(\.\d+)? (µs|ms|s)$/, 'the time since the hop before');
    // The sequence diagram, drawn by mermaid (its chunks loaded now) from the server's text.
    const diagram = result.locator('.trace-diagram svg');
    await diagram.waitFor();
    assert.equal(await diagram.getAttribute('aria-roledescription'), 'sequence');
    await svgTextIs(diagram, /acked \+\d+\.\d{3} ms/, 'a hop with its duration');
    // No inline <style> (the page's CSP would ignore it): mermaid's rules are in an adopted sheet.
    assert.equal(await diagram.locator('style').count(), 0);
    const styled = await diagram.evaluate((svg) => {
      const rules = document.adoptedStyleSheets.flatMap((sheet) => [...sheet.cssRules].map((r) => r.cssText));
      return { rules: rules.some((r) => r.startsWith(`#${svg.id}`)), maxWidth: (svg as SVGSVGElement).style.maxWidth };
    });
    assert.ok(styled.rules, 'the diagram’s rules are adopted');
    assert.match(styled.maxWidth, /px$/, 'its style attribute set through the CSSOM');
    assert.equal(await section.getByTestId('trace-diagram-error').count(), 0);
  }
  await section.locator('.trace-result .trace-timeline-wrap').scrollIntoViewIfNeeded();
  await shot(root, 'admin-trace');
  await section.locator('.trace-result .trace-diagram').scrollIntoViewIfNeeded();
  await shot(root, 'admin-trace-diagram');
  await expectAccessible(root, 'a trace’s timeline and sequence diagram');
  await field.fill('not a key');
  await section.getByRole('button', { name: 'Trace' }).click();
  await textIs(
    section.getByTestId('trace-error'),
    'Enter a trace id (as 12345), a conversation and seq (as 7:12), or a sender and client id (as alice/3f2a-77).',
    'malformed',
  );
  // Refused before asking (the parsing itself is covered by the unit tests).
  await field.fill('alice/');
  await section.getByRole('button', { name: 'Trace' }).click();
  await textIs(section.getByTestId('trace-error'), 'Enter the client id of the send after the “/”, as alice/3f2a-77.', 'no client id');
  await field.fill('123456789');
  await section.getByRole('button', { name: 'Trace' }).click();
  await textIs(section.getByTestId('trace-error'), /^No node holds a trace of this message/, 'not found');
  assert.equal(await section.locator('.trace-result').count(), 0);
});

test('opening a conversation puts the view away; the entry brings it back; what arrives behind it stays unread until closed', async () => {
  const dee = await server.api<{ token: string }>('register', { username: 'dee', password: 'password123' });
  const { conv } = await server.api<{ conv: number }>('create_direct', { username: 'root' }, dee.token);
  await root.locator('.conv-item').first().click();
  await root.getByRole('heading', { name: 'dee', exact: true }).waitFor();
  assert.equal(await root.locator('.admin-view').count(), 0);
  await adminButton(root).click();
  await root.locator('.admin-view').waitFor();
  // The conversation is still the open one, but covered: a message in it is not read yet.
  const reads: string[] = [];
  root.on('request', (r) => {
    if (r.url().endsWith('/v1/read')) reads.push(r.postData() ?? '');
  });
  await server.api('send', { conv, client_id: 'd1', text: 'are you there?' }, dee.token);
  const badge = root.locator('.conv-item .badge');
  await textIs(badge, '1', 'the unread count while the view is shown');
  // Two more topology polls (a read would have gone out within a third of a second): none sent.
  const polls = root.locator('section[aria-labelledby="topology-title"]');
  const seen = Number(await polls.getAttribute('data-polls'));
  await until('two more polls', async () => Number(await polls.getAttribute('data-polls')) >= seen + 2);
  assert.deepEqual(reads, [], 'nothing marked read while the view covers the conversation');
  await textIs(badge, '1', 'still unread');
  await root.getByRole('button', { name: 'Close administration' }).click();
  assert.equal(await root.locator('.admin-view').count(), 0);
  // The conversation is back, with the cursor in its composer, and now read.
  await until('the composer to have focus', async () => (await root.evaluate(() => document.activeElement?.getAttribute('aria-label'))) === 'Message');
  await until('the message to be read', async () => (await badge.count()) === 0);
});

test('a cluster is drawn as it is: three nodes, one stopping and one not answering, Redis and PostgreSQL', async () => {
  // Answers as three nodes behind haproxy would give them (one confabd cannot), each poll's
  // counters higher than the last.
  const started = Date.now() - 3_600_000;
  const node = (id: string, k: number, extra: Record<string, unknown> = {}) => ({
    node: id,
    version: '0.1.0',
    started_at_ms: started,
    sessions: 40,
    users: 31,
    stopping: false,
    metrics: {
      confab_operations_total: 1000 + 50 * k,
      confab_send_commit_seconds_count: 100 + 5 * k,
      confab_live_delivery_seconds_count: 500 + 20 * k,
      confab_broker_published_total: 90 + 5 * k,
      confab_broker_received_total: 300 + 15 * k,
      process_cpu_seconds_total: 12 + 0.1 * k,
      process_resident_memory_bytes: 64 * 1024 * 1024,
      confab_outbox_bytes: 0,
      confab_connections: 41,
    },
    ...extra,
  });
  let k = 0;
  await root.route('**/v1/admin_nodes', (route) =>
    route.fulfill({
      contentType: 'application/json',
      body: JSON.stringify({
        nodes: [node('aaaa1111bbbb2222', k), node('cccc3333dddd4444', k, { stopping: true, sessions: 3, users: 3 })],
        missing: ['eeee5555ffff6666'],
      }),
    }).then(() => void k++),
  );
  await root.route('**/v1/admin_server', (route) =>
    route.fulfill({
      contentType: 'application/json',
      body: JSON.stringify({
        version: '0.1.0',
        node: 'aaaa1111bbbb2222',
        config: { storage: 'postgres', 'pg-dsn': 'host=db1 port=5432 dbname=confab user=confab password=***', broker: 'redis', redis: '10.0.0.9:6379,10.0.0.10:6379' },
      }),
    }),
  );
  await adminButton(root).click();
  const nodes = root.locator('svg.topology g.node');
  await until('three nodes drawn', async () => (await nodes.count()) === 3 || `${await nodes.count()}`);
  assert.deepEqual(
    await nodes.evaluateAll((gs) => gs.map((g) => `${g.getAttribute('data-node')} ${g.getAttribute('data-health')}`)),
    ['aaaa1111bbbb2222 answering', 'cccc3333dddd4444 stopping', 'eeee5555ffff6666 missing'],
  );
  await svgTextIs(nodes.nth(2).locator('text.health'), '○ not answering', 'the missing node');
  await svgTextIs(nodes.nth(0).locator('text.title'), 'Node aaaa1111', 'a short id');
  await svgTextIs(root.locator('svg.topology g.clients'), /43 sessions/, 'sessions over the nodes that answer');
  await svgTextIs(root.locator('svg.topology g.broker text.title'), 'Broker: Redis', 'the broker');
  await svgTextIs(root.locator('svg.topology g.broker'), /10\.0\.0\.9:6379/, 'its seed');
  await svgTextIs(root.locator('svg.topology g.database text.title'), 'Database: PostgreSQL', 'the database');
  await svgTextIs(root.locator('svg.topology g.database'), /db1:5432\/confab/, 'where it is');
  assert.doesNotMatch((await root.locator('section[aria-labelledby="topology-title"]').textContent()) ?? '', /password|\*\*\*/, 'the diagram names no credentials');
  await textIs(root.locator('.config-table tr', { has: root.locator('code', { hasText: /^--pg-dsn$/ }) }).locator('td'), 'host=db1 port=5432 dbname=confab user=confab password=***', 'the redacted DSN');
  await textIs(root.locator('.nodes-table tbody tr').nth(2).locator('td.health'), 'not answering', 'the table too');
  // Two answers a poll apart: rates (50 operations and 5 sends per poll).
  await svgTextIs(nodes.nth(0).locator('text.rates'), /^\d+(\.\d)? ops\/s · \d+(\.\d)? sends\/s$/, 'rates');
  await shot(root, 'admin-cluster');
  await expectAccessible(root, 'the cluster topology');
  await root.unroute('**/v1/admin_nodes');
  await root.unroute('**/v1/admin_server');
});

test('Redis’s masters and the load balancers are drawn from the nodes’ own reports', async () => {
  // Three nodes behind two load balancers: bbbb is cut off from one master, cccc has not caught up
  // with a slot migration (its slot map differs) and has one session that came directly.
  const started = Date.now() - 600_000;
  const master = (address: string, slots: number[][], channels: number, connected = true) => ({ address, slots, connected, channels });
  const masters = (up7002: boolean) => ({
    kind: 'redis',
    cluster: true,
    shards: [master('127.0.0.1:7001', [[0, 5460]], 12), master('127.0.0.1:7002', [[5461, 10922]], 3, up7002), master('127.0.0.1:7003', [[10923, 16383]], 5)],
  });
  const stale = { kind: 'redis', cluster: true, shards: [master('127.0.0.1:7001', [[0, 10922]], 15), master('127.0.0.1:7003', [[10923, 16383]], 5)] };
  const node = (id: string, sessions: number, broker: unknown, proxies: unknown) => ({
    node: id,
    version: '0.1.0',
    started_at_ms: started,
    sessions,
    users: sessions,
    stopping: false,
    metrics: { process_resident_memory_bytes: 64 * 1024 * 1024 },
    broker,
    proxies,
  });
  const [a, b, c] = ['aaaa1111bbbb2222', 'cccc3333dddd4444', 'eeee5555ffff6666'];
  if ((await root.locator('.admin-view').count()) > 0) await root.getByRole('button', { name: 'Close administration' }).click();
  await root.route('**/v1/admin_nodes', (route) =>
    route.fulfill({
      contentType: 'application/json',
      body: JSON.stringify({
        nodes: [
          node(a, 7, masters(true), [
            { address: '10.0.0.1', sessions: 4 },
            { address: '10.0.0.2', sessions: 3 },
          ]),
          node(b, 5, masters(false), [{ address: '10.0.0.1', sessions: 5 }]),
          node(c, 1, stale, []),
        ],
        missing: [],
      }),
    }),
  );
  await adminButton(root).click();
  const svg = root.locator('svg.topology');
  const shards = svg.locator('g.shard');
  await until('three masters drawn', async () => (await shards.count()) === 3 || `${await shards.count()}`);
  assert.equal(await svg.locator('g.broker').getAttribute('data-source'), 'nodes', 'from the nodes, not the configuration');
  await svgTextIs(svg.locator('g.broker text.title'), 'Broker: Redis cluster', 'the broker');
  await svgTextIs(svg.locator('g.broker'), /3 shards · all slots/, 'the shard count');
  assert.deepEqual(
    await shards.evaluateAll((gs) => gs.map((g) => `${g.getAttribute('data-shard')} ${g.getAttribute('data-trouble')}`)),
    ['127.0.0.1:7001 false', '127.0.0.1:7002 true', '127.0.0.1:7003 false'],
  );
  await svgTextIs(shards.nth(0).locator('text.slots'), 'slots 0–5460', 'a master’s slots');
  await svgTextIs(shards.nth(1), /⚠ down from 1 of 2 nodes/, 'the master in trouble');
  // An edge from each node to each master it knows; bbbb's to 7002 is down.
  assert.equal(await svg.locator('g.edges path[data-shard]').count(), 8);
  assert.deepEqual(
    await svg
      .locator('g.edges path[data-shard][data-connected="false"]')
      .evaluateAll((ps) => ps.map((p) => `${p.getAttribute('data-node')} ${p.getAttribute('data-shard')}`)),
    [`${b} 127.0.0.1:7002`],
  );
  await svgTextIs(svg.locator(`g.edge-labels text[data-node="${a}"][data-shard="127.0.0.1:7001"]`), '12', 'channels on the edge');
  await svgTextIs(svg.locator(`g.edge-labels text[data-node="${b}"][data-shard="127.0.0.1:7002"]`), '✕ 3', 'the edge that is down');
  assert.deepEqual(await svg.locator('g.node[data-slot-map="differs"]').evaluateAll((gs) => gs.map((g) => g.getAttribute('data-node'))), [c]);
  await svgTextIs(svg.locator(`g.node[data-node="${c}"] text.slot-map`), '⚠ slot map differs', 'the node that disagrees');
  // The load balancers, between the clients and the nodes.
  assert.deepEqual(await svg.locator('g.load-balancer').evaluateAll((gs) => gs.map((g) => g.getAttribute('data-proxy'))), ['10.0.0.1', '10.0.0.2']);
  await svgTextIs(svg.locator('g.load-balancer[data-proxy="10.0.0.1"]'), /9 sessions · 2 nodes/, 'a load balancer');
  await svgTextIs(svg.locator('g.clients'), /through 2 load balancers/, 'the clients');
  assert.equal(await svg.locator('g.edges path[data-proxy][data-node]').count(), 3, 'an edge from each load balancer to each node with sessions through it');
  await svgTextIs(svg.locator(`g.edge-labels text[data-proxy="10.0.0.1"][data-node="${b}"]`), '5', 'sessions on the edge');
  // The tables.
  const shardRow = root.locator('.shards-table tr[data-shard="127.0.0.1:7002"]');
  await textIs(shardRow.locator('td.slots'), '5461–10922', 'the slots in the table');
  await textIs(shardRow.locator('td').nth(2), '1 / 3', 'nodes connected');
  await textIs(shardRow.locator('td.state'), 'not connected from cccc3333; not known to eeee5555', 'the state');
  await textIs(root.locator('.shards-table tr[data-shard="127.0.0.1:7001"] td').nth(3), '39', 'channels summed');
  await textIs(root.locator('.proxies-table tr[data-proxy="10.0.0.1"] td.per-node'), 'aaaa1111: 4 · cccc3333: 5', 'sessions per node');
  await textIs(root.locator(`.nodes-table tr[data-node="${c}"] td.shards`), '2 / 2 · slot map differs', 'the node in the table');
  assert.doesNotMatch((await svg.locator('desc').textContent()) ?? '', /undefined|NaN/);
  await shot(root, 'admin-shards');
  await expectAccessible(root, 'the topology with masters and load balancers');
  await root.unroute('**/v1/admin_nodes');
});

test('made-up answers: a session through a load balancer shows its via; a failed send found by sender/client id shows its error', async () => {
  // A server that knows `via` and username/client_id (the running one may not yet): its answers
  // made up here, what the page asks checked.
  if ((await root.locator('.admin-view').count()) === 0) await adminButton(root).click();
  const now = Date.now();
  const session = (remote: string, via?: string) => ({
    node: 'aaaa1111bbbb2222',
    user: 9,
    device: 3,
    remote,
    ...(via ? { via } : {}),
    connected_at_ms: now - 60_000,
    outbox_bytes: 0,
    catching_up: false,
    closing: false,
  });
  await root.route('**/v1/admin_user', (route) =>
    route.fulfill({
      contentType: 'application/json',
      body: JSON.stringify({
        user: { id: 9, username: 'lena' },
        devices: [{ device_id: 3, name: 'Phone', created_ts: now - 86_400_000, revoked_ts: null }],
        sessions: [session('203.0.113.7', '10.0.0.2'), session('127.0.0.1:50123')],
        missing: [],
      }),
    }),
  );
  const lookup = root.locator('section[aria-labelledby="lookup-title"]');
  await lookup.getByLabel('Username').fill('lena');
  await lookup.getByRole('button', { name: 'Look up' }).click();
  const sessions = lookup.locator('.lookup-result[data-user="lena"] .sessions-table tbody tr[data-session-device]');
  await until('lena’s two sessions', async () => (await sessions.count()) === 2 || `${await sessions.count()}`);
  assert.deepEqual(await lookup.locator('.sessions-table thead th').allInnerTexts(), ['Node', 'Device', 'Remote', 'Via', 'Connected since', 'Outbox', 'State']);
  const rows = await sessions.evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].slice(2, 4).map((td) => td.textContent?.trim())));
  assert.deepEqual(rows, [
    ['203.0.113.7', '10.0.0.2'],
    ['127.0.0.1:50123', '—'],
  ]);

  const asked: unknown[] = [];
  let mermaid = 'sequenceDiagram\n  participant N0 as node aaaa1111bbbb2222\n  Note over N0: received +0.000 ms\n  Note over N0: failed +1.500 ms\n';
  await root.route('**/v1/admin_trace', (route) => {
    asked.push(route.request().postDataJSON());
    return route.fulfill({
      contentType: 'application/json',
      body: JSON.stringify({
        trace_id: 4242,
        total_us: 1500,
        hops: [
          { hop: 'received', node: 'aaaa1111bbbb2222', at_us: 1_000_000, user: 9, device: 3, client_id: '3f2a/77', via: 'websocket' },
          { hop: 'failed', node: 'aaaa1111bbbb2222', at_us: 1_001_500, error: 'forbidden', message: 'you are muted in this conversation' },
        ],
        mermaid,
        missing: [],
      }),
    });
  });
  const section = root.locator('section[aria-labelledby="trace-title"]');
  await section.getByLabel('Trace id, conversation:seq, or sender/client id').fill(' lena/3f2a/77 ');
  await section.getByRole('button', { name: 'Trace' }).click();
  const result = section.locator('.trace-result[data-trace="4242"]');
  await result.waitFor();
  assert.deepEqual(asked, [{ username: 'lena', client_id: '3f2a/77' }], 'split at the first slash');
  await textIs(section.getByTestId('trace-failure'), 'The send failed: forbidden — you are muted in this conversation', 'the failure above the table');
  await textIs(result.locator('tr[data-hop="failed"] td.hop-failure'), 'error forbidden: you are muted in this conversation', 'the failed hop');
  await textIs(result.locator('tr[data-hop="received"] td').nth(2), 'user 9 · device 3 · client_id 3f2a/77 · via websocket', 'another hop');
  assert.equal(await result.locator('svg.trace-timeline g.mark.failed[data-hop="failed"]').count(), 1, 'the failed hop marked on the timeline');
  await svgTextIs(result.locator('svg.trace-timeline g.mark[data-hop="failed"] text.duration'), '+1.500 ms', 'its time since the hop before');
  await result.locator('.trace-diagram svg').waitFor();
  await section.locator('.trace-table').scrollIntoViewIfNeeded();
  await shot(root, 'admin-trace-failed');
  await expectAccessible(root, 'a failed send’s trace and a session through a load balancer');
  // Text mermaid cannot draw: a clear message; the table and the source stay.
  mermaid = 'not a diagram at all';
  await section.getByRole('button', { name: 'Trace' }).click();
  await textIs(section.getByTestId('trace-diagram-error'), /^The sequence diagram could not be drawn: Mermaid says “.+”\. The hops are in the table above/, 'not drawn');
  assert.equal(await result.locator('.trace-diagram svg').count(), 0);
  assert.equal(await result.locator('.trace-table tbody tr').count(), 2);
  assert.equal(await section.getByTestId('trace-mermaid').textContent(), 'not a diagram at all');
  await root.unroute('**/v1/admin_trace');
  await root.unroute('**/v1/admin_user');
});
