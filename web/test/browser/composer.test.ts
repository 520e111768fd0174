// Writing and reading messages: right-to-left text, drafts per conversation, a growing composer,
// safe links, grouped messages, and files refused with a clear message.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Browser, Page } from 'playwright-core';
import { bubble, launch, newUserPage, openConversation, register, sendMessage, Server, shot, startDirect, textIs, until } from './harness';

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
  await register(ana, 'ana');
  bo = await server.api<Account>('register', { username: 'bo', password: 'password123' });
  await server.api<Account>('register', { username: 'cy', password: 'password123' });
  await startDirect(ana, 'bo');
});

after(async () => {
  await browser?.close();
  await server?.dispose();
});

const box = () => ana.getByLabel('Message', { exact: true });
const direction = (p: Page, sel: string) => p.locator(sel).last().evaluate((e) => getComputedStyle(e).direction);

test('right-to-left text is laid out right to left, in messages and in the composer', async () => {
  await sendMessage(ana, 'שלום, מה שלומך?');
  // The committed message (data-seq), not the pending bubble it replaces: an element removed while
  // it is read has no computed style.
  const sent = bubble(ana, 'שלום, מה שלומך?').and(ana.locator('.msg[data-seq]'));
  await sent.waitFor();
  assert.equal(await sent.locator('.text').evaluate((e) => getComputedStyle(e).direction), 'rtl');
  await box().fill('مرحبا بالعالم');
  assert.equal(await direction(ana, '.composer textarea'), 'rtl');
  await shot(ana, 'right-to-left');
  await box().fill('hello');
  assert.equal(await direction(ana, '.composer textarea'), 'ltr');
  await box().fill('');
});

test('each conversation keeps its own draft, across a reload', async () => {
  await box().fill('draft for bo');
  await startDirect(ana, 'cy');
  assert.equal(await box().inputValue(), '', 'a new conversation starts empty');
  await box().fill('draft for cy');
  await openConversation(ana, 'bo');
  assert.equal(await box().inputValue(), 'draft for bo');
  await ana.reload();
  await openConversation(ana, 'cy');
  assert.equal(await box().inputValue(), 'draft for cy');
  await shot(ana, 'draft-after-reload');
  await openConversation(ana, 'bo');
  await box().press('Enter'); // sent: the draft is gone
  await bubble(ana, 'draft for bo').waitFor();
  await ana.reload();
  await openConversation(ana, 'bo');
  assert.equal(await box().inputValue(), '');
});

test('the composer grows with its text up to a limit, then scrolls', async () => {
  const height = () => box().evaluate((e) => e.getBoundingClientRect().height);
  const one = await height();
  await box().fill(['1', '2', '3', '4', '5', '6'].join('\n'));
  const six = await height();
  assert.ok(six > one * 2.5, `six lines take more room (${one} → ${six})`);
  assert.ok(await box().evaluate((e) => e.scrollHeight <= e.clientHeight + 2), 'all six lines are visible');
  await box().fill(Array.from({ length: 40 }, (_, i) => `line ${i}`).join('\n'));
  const many = await height();
  assert.ok(many < ana.viewportSize()!.height / 3, `capped (${many}px)`);
  assert.ok(await box().evaluate((e) => e.scrollHeight > e.clientHeight), 'then it scrolls');
  await shot(ana, 'composer-grown');
  await box().fill('');
  await until('back to one line', async () => (await height()) <= one + 1);
  // Editing a message of six lines (Up arrow in the empty composer) shows all of them too.
  const sixLines = ['six 1', 'six 2', 'six 3', 'six 4', 'six 5', 'six 6'].join('\n');
  await box().fill(sixLines);
  await box().press('Enter');
  await ana.locator('.msg.mine[data-seq]', { hasText: 'six 6' }).waitFor();
  await box().press('ArrowUp');
  await until('the edit to be loaded', async () => (await box().inputValue()) === sixLines);
  await until('the box to grow for the edited text', async () => (await height()) > one * 2.5 || `${await height()}`);
  assert.ok(await box().evaluate((e) => e.scrollHeight <= e.clientHeight + 2), 'all six lines are visible while editing');
  await box().press('Escape'); // cancels the edit
  await until('back to one line after the edit', async () => (await height()) <= one + 1 || `${await height()}`);
});

test('links are clickable and safe; hostile text stays text', async () => {
  await openConversation(ana, 'bo');
  const hostile = [
    'see https://example.org/a?b=1, and mailto:bo@example.org.',
    '<img src=x onerror="window.__pwned=1"> <script>window.__pwned=2</script>',
    'javascript:window.__pwned=3 <a href="javascript:window.__pwned=4">click</a> data:text/html,hi',
    'https://example.org/"onmouseover="window.__pwned=5"',
  ].join('\n');
  await server.api('send', { conv: await convOf('bo'), client_id: 'h1', text: hostile }, bo.token);
  const text = ana.locator('.msg:not(.mine) .text').last();
  await textIs(text, /window\.__pwned=5/, 'the hostile message');
  const links = await text.locator('a').evaluateAll((as) => as.map((a) => ({ href: a.getAttribute('href'), rel: a.getAttribute('rel'), target: a.getAttribute('target'), text: a.textContent })));
  assert.deepEqual(links, [
    { href: 'https://example.org/a?b=1', rel: 'noopener noreferrer', target: '_blank', text: 'https://example.org/a?b=1' },
    { href: 'mailto:bo@example.org', rel: 'noopener noreferrer', target: '_blank', text: 'mailto:bo@example.org' },
    { href: 'https://example.org/', rel: 'noopener noreferrer', target: '_blank', text: 'https://example.org/' },
  ]);
  assert.equal(await text.locator('img, script').count(), 0, 'no element from the text');
  assert.equal(await text.innerText(), hostile, 'shown exactly as written');
  await text.locator('a').last().hover();
  assert.equal(await ana.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
  await shot(ana, 'links');
});

async function convOf(title: string): Promise<number> {
  return Number(await ana.locator('.conv-item', { has: ana.locator('.conv-title', { hasText: new RegExp(`^${title}$`) }) }).getAttribute('data-conv'));
}

test('consecutive messages from one sender are grouped under one name and avatar', async () => {
  const me = JSON.parse((await ana.evaluate(() => localStorage.getItem('confab.session'))) ?? '{}');
  const { conv } = await server.api<{ conv: number }>('create_group', { title: 'Band', members: [me.user_id] }, bo.token);
  for (const t of ['first', 'second', 'third']) await server.api('send', { conv, client_id: t, text: t }, bo.token);
  await openConversation(ana, 'Band');
  await bubble(ana, 'third').waitFor();
  assert.equal(await ana.locator('.msg .who').count(), 1, 'one name');
  assert.equal(await ana.locator('.msg .avatar:not(.spacer)').count(), 1, 'one avatar');
  assert.deepEqual(await ana.locator('.msg[data-seq]').evaluateAll((ms) => ms.map((m) => m.classList.contains('cont'))), [false, true, true]);
  // The time of a grouped message shows on hover.
  const time = bubble(ana, 'second').locator('time');
  assert.equal(await time.evaluate((e) => getComputedStyle(e).visibility), 'hidden');
  await bubble(ana, 'second').hover();
  assert.equal(await time.evaluate((e) => getComputedStyle(e).visibility), 'visible');
  await shot(ana, 'grouped');
});

test('pasting or dropping a file says attachments are not supported yet', async () => {
  const url = ana.url();
  await box().focus();
  await box().evaluate((el) => {
    const dt = new DataTransfer();
    dt.items.add(new File(['x'], 'photo.png', { type: 'image/png' }));
    el.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
  });
  await textIs(ana.getByTestId('composer-error'), 'Attachments are not supported yet: only text can be sent.', 'after a paste');
  await shot(ana, 'file-pasted');
  await box().fill('typing clears it');
  await textIs(ana.getByTestId('composer-error'), '', 'after typing');
  const dropped = await ana.locator('.messages').evaluate((el) => {
    const dt = new DataTransfer();
    dt.items.add(new File(['x'], 'doc.pdf', { type: 'application/pdf' }));
    el.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
    const ev = new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true });
    el.dispatchEvent(ev);
    return ev.defaultPrevented; // not prevented = the browser opens the file instead of the app
  });
  assert.equal(dropped, true, 'the drop is handled');
  await textIs(ana.getByTestId('composer-error'), 'Attachments are not supported yet: only text can be sent.', 'after a drop');
  assert.equal(ana.url(), url);
  await box().fill('');
});
