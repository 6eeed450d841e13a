// Browser scenarios of tests/tests/web.rs, in Debian's headless Chromium driven by
// playwright-core (no browser download). The Rust test starts the real fleet and runs:
//
//   node tests/web/run.mjs <scenario>
//
// with CD_BASE (the scheduler's address), CD_SHOTS (screenshot folder), CD_CHROMIUM
// (browser path), and for `login` CD_TOKEN. Every step prints one line; a failed check
// exits 1 with what was expected and what the page showed.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const base = process.env.CD_BASE;
const shots = process.env.CD_SHOTS;
const scenario = process.argv[2];
const executablePath = process.env.CD_CHROMIUM || '/usr/bin/chromium';
const XSS = '<script>alert(1)</script>';

function log(...a) {
  console.log('[web]', ...a);
}

function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
}

async function shot(page, name) {
  mkdirSync(shots, { recursive: true });
  const path = join(shots, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  log('screenshot', path);
}

async function tab(page, name) {
  await page.click(`#tab-${name}`);
  await page.waitForSelector(`#page-${name}`);
}

/** Waits for `fn` (polled in Node) to return truthy, up to `ms`. */
async function until(what, ms, fn) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    last = await fn();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

async function loopback(page, dialogs) {
  await page.goto(base + '/');
  await page.waitForSelector('#tab-syncs');
  await until('the live event stream', 10_000, async () => (await page.textContent('#live-status')) === 'live');
  log('page loaded, live updates connected');

  // Syncs: create from pasted text; one line carries markup in its title.
  await page.fill('#playlist-text', `Demdike Stare - Quiet Sky\nThe Hackers - ${XSS}\n`);
  await page.fill('#sync-name', `web e2e ${XSS}`);
  await page.click('#create-submit');
  await page.waitForSelector('#create-result');
  const created = await page.textContent('#create-result');
  check(/2 items/.test(created), `2 items created, page says: ${created}`);
  log('sync created from pasted text:', created.trim());
  // The sync shows progress per state, live (no reload): wait for a state past pending.
  await until('progress past pending', 60_000, async () => {
    const chips = await page.$$eval('li.sync .counts .chip', (els) => els.map((e) => e.dataset.state));
    return chips.some((s) => s && s !== 'pending');
  });
  const chips = await page.$$eval('li.sync:first-child .counts .chip', (els) => els.map((e) => e.textContent));
  log('progress:', chips.join(', '));
  // The markup is shown literally, as text, and nothing ran.
  const xssCell = page.locator('table.items td.title', { hasText: XSS });
  await xssCell.first().waitFor();
  check((await xssCell.first().textContent()).includes(XSS), 'the <script> title is shown as text');
  check((await page.locator('li.sync .sync-name', { hasText: XSS }).count()) === 1, 'the sync name with markup is shown as text');
  check((await page.locator('table.items script').count()) === 0, 'no script element was created');
  await shot(page, 'syncs');

  // Review: the Quiet Sky item waits for approval; select it and approve with the keyboard.
  await tab(page, 'review');
  check((await page.textContent('#review-keys')).includes('approve'), 'the keys are documented on the page');
  const card = page.locator('article.review-item', { hasText: 'Quiet Sky' });
  // (no reload: the list refreshes itself when an item enters awaiting_approval)
  await until('Quiet Sky waiting for approval', 120_000, async () => (await card.count()) > 0);
  await card.locator('li.cand').first().waitFor();
  const cands = await card.locator('li.cand').count();
  check(cands >= 1 && cands <= 5, `1 to 5 candidates shown, got ${cands}`);
  check((await card.locator('ul.factors li').count()) > 0, 'the score breakdown is shown');
  const props = await card.locator('.props').first().textContent();
  check(/FLAC|MP3/.test(props) && /peer/.test(props), `format and peer shown: ${props}`);
  await shot(page, 'review');
  // Move the selection to the Quiet Sky card (j), pick #2 then #1 (keys 2, 1), approve (Enter).
  const ids = await page.$$eval('article.review-item', (els) => els.map((e) => e.dataset.item));
  const target = await card.getAttribute('data-item');
  await page.locator('body').click({ position: { x: 2, y: 2 } });
  for (let i = 0; i < ids.indexOf(target); i++) await page.keyboard.press('j');
  check(await card.evaluate((e) => e.classList.contains('selected')), 'j moved the selection to the Quiet Sky item');
  if (cands >= 2) {
    await page.keyboard.press('2');
    check((await card.locator('li.cand.picked').getAttribute('data-rank')) === '2', 'key 2 picked candidate #2');
  }
  await page.keyboard.press('1');
  check((await card.locator('li.cand.picked').getAttribute('data-rank')) === '1', 'key 1 picked candidate #1');
  await page.keyboard.press('Enter');
  const decided = page.locator(`#decided li[data-item="${target}"]`);
  await decided.waitFor({ timeout: 10_000 });
  log('approved with the keyboard:', (await decided.textContent()).trim());
  // The item advances, live: downloading / verifying / filed, without reloading.
  await until('the approved item to advance', 120_000, async () => {
    const s = await decided.getAttribute('data-state');
    return ['downloading', 'verifying', 'filed'].includes(s) && s;
  });
  log('approved item advanced to', await decided.getAttribute('data-state'));
  await shot(page, 'review-decided');

  // Library: search.
  await tab(page, 'library');
  await page.waitForSelector('#library-tracks');
  await page.fill('#library-search', 'Quiet');
  await page.waitForTimeout(600);
  await shot(page, 'library');

  // Queue: depths per queue and lane.
  await tab(page, 'queue');
  await page.waitForSelector('#queue-table tbody tr');
  const queues = await page.$$eval('#queue-table tbody tr', (rows) => rows.map((r) => r.dataset.queue));
  for (const q of ['research', 'metadata', 'consolidate', 'discovery', 'download', 'analysis']) {
    check(queues.includes(q), `queue ${q} listed (got ${queues.join(', ')})`);
  }
  const lanes = await page.$$eval('#queue-table tbody tr:first-child td[data-lane]', (c) => c.map((x) => x.textContent));
  check(lanes.length === 3 && lanes.every((n) => /^\d+$/.test(n)), `three lane depths: ${lanes}`);
  log('queues shown:', queues.join(', '));
  await shot(page, 'queue');

  // Chat: streamed answer from the rule-based planner.
  await tab(page, 'chat');
  await page.fill('#chat-input', 'what can you do?');
  await page.click('#chat-send');
  await page.waitForSelector('#chat-log li[data-kind="plan"]', { timeout: 30_000 });
  await page.waitForSelector('#chat-log li[data-kind="answer"]', { timeout: 60_000 });
  const answer = await page.textContent('#chat-log li[data-kind="answer"]');
  check(answer.length > 20, `an answer: ${answer}`);
  const kinds = await page.$$eval('#chat-log li', (els) => els.map((e) => e.dataset.kind));
  log('chat events:', kinds.join(' → '));
  await shot(page, 'chat');

  // Back on Syncs: the made-up track finds no copy and fails (live, no reload); its Retry
  // button sends it round again.
  await tab(page, 'syncs');
  await page.click('li.sync:first-child .sync-name');
  const retry = page.locator('tr.state-failed button.retry');
  await retry.first().waitFor({ timeout: 120_000 });
  check((await retry.count()) === 1, 'exactly one failed item offers Retry');
  await retry.first().click();
  await page.waitForSelector('td.reason .note');
  const note = (await page.textContent('td.reason .note')).trim();
  check(note.startsWith('retrying'), `the retry is acknowledged: ${note}`);
  log('retry:', note);
  await shot(page, 'syncs-retried');
  check(dialogs.length === 0, `no dialog opened (got ${dialogs.join(', ')})`);
}

async function login(page, context, dialogs) {
  const token = process.env.CD_TOKEN;
  // Without credentials the API refuses.
  const bare = await fetch(base + '/v1/syncs');
  check(bare.status === 401, `GET /v1/syncs without a token is 401, got ${bare.status}`);
  log('request without the token refused:', bare.status);
  // The page loads and asks for the token.
  await page.goto(base + '/');
  await page.waitForSelector('#login-token');
  await page.fill('#login-token', 'not-the-token-0000');
  await page.click('#login-submit');
  await page.waitForSelector('.login .error');
  log('wrong token refused:', (await page.textContent('.login .error')).trim());
  await shot(page, 'login');
  await page.fill('#login-token', token);
  await page.click('#login-submit');
  await page.waitForSelector('#tab-syncs');
  const cookies = await context.cookies();
  const c = cookies.find((x) => x.name === 'cd_session');
  check(c && c.httpOnly && c.sameSite === 'Strict', `HttpOnly SameSite=Strict session cookie: ${JSON.stringify(c)}`);
  check(!(await page.evaluate(() => document.cookie)).includes('cd_session'), 'the session cookie is not readable by script');
  log('logged in; cookie HttpOnly, SameSite=Strict');
  // The page works through the session: create a sync (a POST with the CSRF token).
  await page.fill('#playlist-text', 'Fleetwood Mac - Seven Wonders\n');
  await page.click('#create-submit');
  await page.waitForSelector('#create-result');
  log('sync created through the session');
  // A state-changing request with the cookie but without the CSRF token is refused.
  const forged = await page.evaluate(async () => {
    const r = await fetch('/v1/syncs', { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: 'A - B' });
    return r.status;
  });
  check(forged === 403, `POST with the cookie but no X-CSRF-Token is 403, got ${forged}`);
  log('POST without X-CSRF-Token refused:', forged);
  await shot(page, 'syncs-logged-in');
  // Log out: the cookie no longer works.
  await page.click('#logout');
  await page.waitForSelector('#login-token');
  const after = await page.evaluate(async () => (await fetch('/v1/syncs')).status);
  check(after === 401, `after logout the API refuses, got ${after}`);
  log('logged out');
  check(dialogs.length === 0, 'no dialog opened');
}

const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
let code = 0;
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  const dialogs = [];
  page.on('dialog', async (d) => {
    dialogs.push(d.message());
    await d.dismiss();
  });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  if (scenario === 'loopback') await loopback(page, dialogs);
  else if (scenario === 'login') await login(page, context, dialogs);
  else throw new Error(`unknown scenario ${scenario}`);
  const csp = errors.filter((e) => /Content Security Policy/i.test(e));
  check(csp.length === 0, `no CSP violation: ${csp.join(' | ')}`);
  if (errors.length) log('console errors (not failing):', errors.join(' | '));
  log('PASS', scenario);
} catch (e) {
  console.error('[web] FAIL', scenario, e.stack || e);
  try {
    const pages = browser.contexts().flatMap((c) => c.pages());
    if (pages[0]) {
      await shot(pages[0], `failure-${scenario}`);
      console.error('[web] page text at failure:\n' + (await pages[0].innerText('body')).slice(0, 3000));
    }
  } catch {}
  code = 1;
} finally {
  await browser.close();
}
process.exit(code);
