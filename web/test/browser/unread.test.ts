// Unread state: delivery never clears it; a conversation with many unread opens at the first
// unread, with a button to jump to the latest.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Browser, Page } from 'playwright-core';
import { bubble, inView, launch, newUserPage, register, Server, shot, textIs, until } from './harness';

let server: Server;
let browser: Browser;
let ana: Page;
type Account = { token: string; user_id: number };
let bo: Account;
let cy: Account;

before(async () => {
  server = new Server();
  await server.start();
  browser = await launch();
  ana = (await newUserPage(browser, server)).page;
  await register(ana, 'ana');
  bo = await server.api<Account>('register', { username: 'bo', password: 'password123' });
  cy = await server.api<Account>('register', { username: 'cy', password: 'password123' });
});

after(async () => {
  await browser?.close();
  await server?.dispose();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function send(from: Account, conv: number, text: string): Promise<number> {
  const r = await server.api<{ seq: number }>('send', { conv, client_id: `c-${Math.random()}`, text }, from.token);
  return r.seq;
}

/** Whether the element is inside the message list's visible area. */
test('delivery receipts do not clear the unread badge, the tab title count or the marker', async () => {
  const { conv } = await server.api<{ conv: number }>('create_direct', { username: 'ana' }, bo.token);
  let last = 0;
  for (const t of ['one', 'two', 'three']) last = await send(bo, conv, t);
  const item = ana.locator('.conv-item', { hasText: 'bo' });
  await textIs(item.locator('.badge'), '3', "ana's badge");
  // Ana's client reports delivery (about a second after the messages); the server then sends a
  // receipt to her devices, with her read pointer unchanged.
  await until('the server to record the delivery to ana', async () => {
    const r = await server.api<{ members: { username: string; delivered_seq: number }[] }>('receipts', { conv }, bo.token);
    return r.members.find((m) => m.username === 'ana')?.delivered_seq === last;
  });
  await sleep(1000); // the receipt frame reaches ana's page
  assert.equal((await item.locator('.badge').innerText()).trim(), '3', 'the badge after the delivery receipt');
  assert.equal(await ana.title(), '(3) Confab', 'the tab title after the delivery receipt');
  await shot(ana, 'unread-after-delivery');
  // Reading (opening it) is what clears it, and the marker sits above the first unread.
  await item.click();
  await textIs(ana.locator('.unread-marker + .msg .text'), 'one', 'the message after the marker');
  await until('the badge to clear once read', async () => (await item.locator('.badge').count()) === 0);
});

test('a conversation with 300 unread opens at the first unread, and a button jumps to the latest', async () => {
  const { conv } = await server.api<{ conv: number }>('create_direct', { username: 'ana' }, cy.token);
  await send(cy, conv, 'already read');
  const item = ana.locator('.conv-item', { hasText: 'cy' });
  await textIs(item.locator('.badge'), '1', 'badge');
  await item.click();
  await bubble(ana, 'already read').waitFor();
  await until('cy to be read', async () => (await item.locator('.badge').count()) === 0);
  await ana.locator('.conv-item', { hasText: 'bo' }).click(); // another conversation is open meanwhile
  for (let i = 1; i <= 300; i++) await send(cy, conv, `unread ${i}`);
  await textIs(item.locator('.conv-preview'), 'unread 300', 'preview');
  await item.click();
  await bubble(ana, 'unread 1').waitFor();
  await until('the marker and the first unread to be in view', async () => (await inView(ana, ana.locator('.unread-marker'))) && (await inView(ana, bubble(ana, 'unread 1'))));
  assert.equal(await inView(ana, bubble(ana, 'unread 300')), false, 'the newest is not what is shown');
  const jump = ana.getByTestId('jump');
  await textIs(jump, /^\d+ new ↓$/, 'the jump button');
  await shot(ana, 'opened-at-first-unread');
  await jump.click();
  await until('the latest message to be in view', async () => inView(ana, bubble(ana, 'unread 300')));
  await until('the jump button to go', async () => (await jump.count()) === 0);
  // Scrolling up brings it back, as "jump to latest".
  await ana.locator('.messages').evaluate((el) => (el.scrollTop = 0));
  await textIs(jump, 'Jump to latest ↓', 'the jump button after scrolling up');
});
