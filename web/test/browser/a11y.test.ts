// Keyboard and focus: one tab stop for the message list with arrow keys inside it, the composer
// focused when a conversation opens, dialogs that keep focus and give it back; a heading and
// landmarks; axe-core finds no serious or critical problems.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Browser, Page } from 'playwright-core';
import { expectAccessible, launch, newUserPage, openConversation, register, Server, shot, textIs, until } from './harness';

let server: Server;
let browser: Browser;
let ana: Page;
type Account = { token: string; user_id: number };
let bo: Account;

before(async () => {
  server = new Server();
  await server.start();
  browser = await launch();
  ana = (await newUserPage(browser, server)).page;
  await expectAccessible(ana, 'the sign-in screen');
  await register(ana, 'ana');
  bo = await server.api<Account>('register', { username: 'bo', password: 'password123' });
  const { conv } = await server.api<{ conv: number }>('create_direct', { username: 'ana' }, bo.token);
  for (let i = 1; i <= 30; i++) await server.api('send', { conv, client_id: `m${i}`, text: `message ${i}` }, bo.token);
  const me = JSON.parse((await ana.evaluate(() => localStorage.getItem('confab.session'))) ?? '{}');
  const group = await server.api<{ conv: number }>('create_group', { title: 'Crew', members: [me.user_id] }, bo.token);
  await server.api('send', { conv: group.conv, client_id: 'g1', text: 'crew hello' }, bo.token);
});

after(async () => {
  await browser?.close();
  await server?.dispose();
});

const active = (p: Page) =>
  p.evaluate(() => {
    const a = document.activeElement as HTMLElement | null;
    return { tag: a?.tagName.toLowerCase(), label: a?.getAttribute('aria-label') ?? a?.textContent?.trim() ?? '', inList: !!a?.closest('.messages'), inDialog: !!a?.closest('[role=dialog]'), cls: a?.className ?? '' };
  });

test('choosing a person puts the cursor in the composer', async () => {
  await ana.getByRole('button', { name: 'New chat' }).click();
  await ana.getByLabel('Find a person').fill('bo');
  await ana.getByRole('dialog').getByRole('button', { name: 'bo', exact: true }).click();
  await ana.getByRole('heading', { name: 'bo', exact: true }).waitFor();
  await until('the composer to have focus', async () => (await active(ana)).label === 'Message' || JSON.stringify(await active(ana)));
});

test('opening a conversation from the list puts the cursor in its composer', async () => {
  await openConversation(ana, 'Crew');
  await until('the composer to have focus', async () => (await active(ana)).label === 'Message' || JSON.stringify(await active(ana)));
  await openConversation(ana, 'bo');
  await until('the composer to have focus again', async () => (await active(ana)).label === 'Message' || JSON.stringify(await active(ana)));
});

test('the message list is one tab stop, with arrow keys inside it', async () => {
  await ana.locator('.msg[data-seq]').nth(10).waitFor();
  // Tab stops inside the list (besides the list itself): none.
  const stops = await ana.locator('.messages').evaluate((list) =>
    [...list.querySelectorAll<HTMLElement>('a, button, input, textarea, select, [tabindex]')].filter((e) => e.tabIndex >= 0).length,
  );
  assert.equal(stops, 0);
  await ana.locator('.messages').focus();
  await ana.keyboard.press('ArrowUp');
  let a = await active(ana);
  assert.ok(a.inList && a.cls.includes('msg'), JSON.stringify(a));
  assert.match(a.label, /message 30$/, 'ArrowUp from the list: the newest message');
  await ana.keyboard.press('ArrowUp');
  assert.match((await active(ana)).label, /message 29$/, 'ArrowUp: the one before');
  await ana.keyboard.press('ArrowDown');
  assert.match((await active(ana)).label, /message 30$/, 'ArrowDown: back to the newest');
  await shot(ana, 'keyboard-message-focus');
  // Enter replies to the focused message.
  await ana.keyboard.press('Enter');
  await textIs(ana.locator('.replying'), /Replying to bo: message 30/, 'the reply bar');
  // Tab goes through the focused message's buttons (no other message's), then leaves the list.
  await ana.locator('.messages').focus();
  await ana.keyboard.press('ArrowUp');
  const visited: string[] = [];
  for (let i = 0; i < 10; i++) {
    await ana.keyboard.press('Tab');
    a = await active(ana);
    if (!a.inList) break;
    visited.push(`${a.tag} ${a.label}`);
  }
  assert.equal(a.inList, false, `Tab left the list: ${JSON.stringify(visited)}`);
  assert.ok(visited.length >= 2, `the message's buttons are Tab stops: ${JSON.stringify(visited)}`);
  for (const s of visited) assert.match(s, /^button .*message 30$/, 'only the focused message’s buttons');
  // Back into the list from outside: the list itself, not a message's button.
  await ana.keyboard.press('Shift+Tab');
  a = await active(ana);
  assert.ok(a.inList && a.cls.includes('messages'), JSON.stringify(a));
  await ana.keyboard.press('Tab');
  assert.equal((await active(ana)).inList, false, 'one Tab from the list itself leaves it');
  await ana.keyboard.press('Escape'); // cancels the reply
});

test('a link in a message is reached by keyboard and opens with Enter', async () => {
  const conv = Number(await ana.locator('.conv-item', { has: ana.locator('.conv-title', { hasText: /^bo$/ }) }).getAttribute('data-conv'));
  const url = `${server.base}/healthz`;
  await server.api('send', { conv, client_id: 'link1', text: `status page: ${url} (for you)` }, bo.token);
  await openConversation(ana, 'bo');
  await ana.locator('.msg[data-seq]', { hasText: 'status page' }).waitFor();
  await ana.locator('.messages').focus();
  await ana.keyboard.press('End');
  assert.match((await active(ana)).label, /status page/, 'End: the newest message');
  await ana.keyboard.press('Tab');
  const a = await active(ana);
  assert.equal(a.tag, 'a', JSON.stringify(a));
  await shot(ana, 'keyboard-link-focus');
  const opened = ana.context().waitForEvent('page');
  await ana.keyboard.press('Enter');
  const tab = await opened;
  await tab.waitForLoadState();
  assert.equal(tab.url(), url);
  await tab.close();
});

test('the reaction picker works by keyboard', async () => {
  await ana.locator('.messages').focus();
  await ana.keyboard.press('End');
  await ana.keyboard.press('Tab'); // its link
  await ana.keyboard.press('Tab');
  assert.match((await active(ana)).label, /^React to bo: status page/, 'Tab, Tab: the React button');
  await ana.keyboard.press('Enter');
  assert.equal((await active(ana)).label, 'React with 👍', 'the picker opens on its first reaction');
  await ana.keyboard.press('ArrowRight');
  assert.equal((await active(ana)).label, 'React with ❤️', 'ArrowRight: the next reaction');
  await ana.keyboard.press('ArrowLeft');
  await ana.keyboard.press('ArrowLeft');
  assert.equal((await active(ana)).label, 'React with 👀', 'ArrowLeft wraps to the last');
  await ana.keyboard.press('Home');
  await ana.keyboard.press('ArrowDown');
  await ana.keyboard.press('Enter');
  const newest = ana.locator('.msg[data-seq]', { hasText: 'status page' });
  await textIs(newest.locator('.reaction'), /^❤️\s*1$/, 'the reaction picked by keyboard');
  await shot(ana, 'keyboard-reaction');
});

test('a dialog keeps focus inside and gives it back to the button that opened it', async () => {
  await ana.getByRole('button', { name: 'New group' }).focus();
  await ana.keyboard.press('Enter');
  await ana.getByRole('dialog').waitFor();
  for (let i = 0; i < 12; i++) {
    await ana.keyboard.press(i % 3 === 2 ? 'Shift+Tab' : 'Tab');
    const a = await active(ana);
    assert.ok(a.inDialog, `Tab ${i} left the dialog: ${JSON.stringify(a)}`);
  }
  await shot(ana, 'dialog-focus-kept');
  await ana.keyboard.press('Escape');
  await until('the dialog to close', async () => (await ana.getByRole('dialog').count()) === 0);
  assert.equal((await active(ana)).label, 'New group');
});

test('a dialog has its first field focused when it appears, so typing at once lands there', async () => {
  // Keys pressed the moment the dialog shows: no later focus change may move them elsewhere.
  await ana.getByRole('button', { name: 'New group' }).click();
  await ana.keyboard.type('Club');
  // Two animation frames: any effect scheduled after paint (Preact's useEffect) has run by then.
  await ana.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  assert.equal(await ana.getByLabel('Title').inputValue(), 'Club');
  assert.equal(await ana.getByLabel('Add people').inputValue(), '');
  assert.equal((await active(ana)).tag, 'input');
  await ana.keyboard.press('Escape');
  await ana.getByRole('button', { name: 'New chat' }).click();
  await ana.keyboard.type('b');
  assert.equal(await ana.getByLabel('Find a person').inputValue(), 'b');
  await ana.keyboard.press('Escape');
});

test('the page has a level-one heading and one main landmark; axe-core finds nothing serious', async () => {
  assert.equal(await ana.locator('h1').count(), 1);
  assert.equal(await ana.getByRole('main').count(), 1);
  await expectAccessible(ana, 'a conversation');
  await ana.getByRole('button', { name: 'Devices' }).click();
  await ana.getByRole('dialog').locator('.devices li').first().waitFor();
  await expectAccessible(ana, 'the devices dialog');
  await ana.keyboard.press('Escape');
  await ana.getByRole('button', { name: 'Sign out' }).click();
  await expectAccessible(ana, 'the sign-out confirmation');
  await ana.keyboard.press('Escape');
  await ana.locator('.side-head .me').click();
  await ana.getByLabel('Display name').waitFor();
  await expectAccessible(ana, 'the profile dialog');
  await ana.keyboard.press('Escape');
  await openConversation(ana, 'Crew');
  await expectAccessible(ana, 'a group conversation');
  await ana.getByRole('button', { name: 'Members' }).click();
  await ana.getByRole('dialog').locator('li[data-user="bo"]').waitFor();
  await expectAccessible(ana, 'the members dialog');
  await ana.keyboard.press('Escape');
});
