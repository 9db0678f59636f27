// End-to-end test of the web console (issue 17 item 3) in Debian's headless Chromium, driven
// by playwright-core. Runs against a local stack with the demo data (tests/console/run.sh
// starts one): a collector completes a task and records a promise, a cashier confirms an
// exception and the payment is allocated, the legal department downloads a case's evidence
// bundle, a supervisor reads the dashboards; refusals, the language switch, CSRF and
// sign-out are checked on the way. Every page is saved as a screenshot in $ARTIFACTS.
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const base = process.env.CONSOLE_URL;
const out = process.env.ARTIFACTS || 'tests/console/artifacts';
assert.ok(base, 'CONSOLE_URL is not set (tests/console/run.sh sets it)');
mkdirSync(out, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  // Chromium refuses its sandbox as root (CI containers run as root).
  args: process.getuid && process.getuid() === 0 ? ['--no-sandbox'] : [],
});

let step = 0;
async function shot(page, name) {
  step += 1;
  const file = join(out, `${String(step).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  console.log(`  screenshot ${file}`);
}

async function signIn(identity) {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 800 },
    locale: 'zh-CN',
    acceptDownloads: true,
  });
  const page = await context.newPage();
  await page.goto(`${base}/signin`);
  await page.click(`button[data-identity="${identity}"]`);
  await page.waitForURL((url) => !url.pathname.startsWith('/signin'));
  assert.match(await page.textContent('header .who'), new RegExp(identity.replace('.', '\\.')));
  return { context, page };
}

async function check(name, body) {
  process.stdout.write(`- ${name}\n`);
  await body();
}

let debtorPath = '';

try {
  await check('sign-in page lists the demo identities (Chinese first)', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const response = await page.goto(`${base}/queue`);
    assert.equal(new URL(page.url()).pathname, '/signin', 'not signed in: sent to sign in');
    assert.equal(response.status(), 200);
    assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
    assert.ok((await page.locator('button[data-identity]').count()) >= 5);
    assert.match(await page.textContent('.demo'), /本地演示登录/);
    await shot(page, 'signin');
    await context.close();
  });

  await check('collector li.na completes a task and records a promise', async () => {
    const { context, page } = await signIn('li.na');
    assert.equal(new URL(page.url()).pathname, '/queue', "a collector's start page is the queue");
    assert.deepEqual(await page.locator('header nav a').allTextContents(), ['工作队列']);
    const debtors = await page.locator('#queue tbody tr').count();
    assert.ok(debtors >= 1, 'the queue lists the demo debtor');
    assert.match(await page.textContent('#queue'), /王芳/);
    const taskRow = page.locator('#tasks tbody tr').first();
    const taskId = await taskRow.getAttribute('data-task');
    assert.ok(taskId, 'an open task');
    await shot(page, 'collector-queue');

    await taskRow.locator('a').click();
    await page.waitForURL(/\/customers\//);
    const customerPath = new URL(page.url()).pathname;
    debtorPath = customerPath;
    assert.match(await page.textContent('h1'), /债务人详情/);
    assert.match(await page.textContent('#next-contact'), /\d{4}-\d{2}-\d{2}T/, 'the next allowed contact time');
    assert.ok((await page.locator('#items tbody tr').count()) >= 1, 'items from contracts');
    assert.match(await page.textContent('#items'), /HT-CONSOLE-/);
    assert.match(await page.textContent('#contacts'), /139\*+9000/, 'contact details masked by dunning (R-O4)');
    assert.doesNotMatch(await page.content(), /13900139000/, 'no phone number in clear');
    await shot(page, 'collector-debtor');

    const task = page.locator(`div.task[data-task="${taskId}"]`);
    await task.locator('select[name=outcome]').selectOption({ label: '承诺还款' });
    await task.locator('input[name=note]').fill('客户承诺月底前付清 (console e2e)');
    await task.locator('button[type=submit]').click();
    await page.waitForURL(/ok=task/);
    assert.match(await page.textContent('.flash'), /任务已完成/);
    assert.equal(await page.locator(`div.task[data-task="${taskId}"]`).count(), 0, 'no longer open');
    assert.match(await page.textContent(`#done-tasks tr[data-task="${taskId}"]`), /承诺还款.*li\.na/s);
    assert.match(await page.textContent('#log'), /承诺还款/, 'the outcome is in the contact log (R-D4)');

    await page.fill('#promises input[name=amount]', '3000.00');
    await page.fill('#promises input[name=promised_date]', '2026-02-28');
    await page.fill('#promises input[name=note]', 'console e2e');
    await page.click('#promises button[type=submit]');
    await page.waitForURL(/ok=promise/);
    assert.match(await page.textContent('#promises table'), /3,000\.00 CNY[\s\S]*2026-02-28/);
    await shot(page, 'collector-debtor-after');

    await page.goto(`${base}/queue`);
    assert.equal(await page.locator(`#tasks tr[data-task="${taskId}"]`).count(), 0,
      'the completed task left the queue');
    await shot(page, 'collector-queue-after');

    // Refusals come from the services and read as a page that says what to do.
    const denied = await page.goto(`${base}/exceptions`);
    assert.equal(denied.status(), 403);
    assert.match(await page.textContent('.error'), /您的角色或负责范围不包括此操作/);
    assert.match(await page.textContent('.error'), /PermissionDenied/);
    await shot(page, 'collector-refused');

    // CSRF: a form posted without the session's token is refused before any service call.
    const forged = await page.request.post(`${base}/tasks/${taskId}/complete`, {
      form: { outcome: '5', customer_id: 'x' },
      maxRedirects: 0,
    });
    assert.equal(forged.status(), 403, 'a POST without the CSRF token is refused');

    // English second: the switch is kept in a cookie.
    await page.goto(`${base}${customerPath}`);
    await page.click('a.lang');
    await page.waitForURL((url) => url.pathname === customerPath);
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    assert.match(await page.textContent('h1'), /Debtor/);
    await shot(page, 'collector-debtor-english');
    await page.click('a.lang');

    // Signing out ends the session.
    await page.click('header form button');
    await page.waitForURL(/\/signin/);
    await page.goto(`${base}/queue`);
    assert.equal(new URL(page.url()).pathname, '/signin');
    await context.close();
  });

  await check("another collector may not open li.na's debtor (R-O3 scope, decided by the services)", async () => {
    const { context, page } = await signIn('wang.wu');
    assert.equal(await page.locator('#queue', { hasText: '王芳' }).count(), 0, "not in wang.wu's queue");
    const refused = await page.goto(`${base}${debtorPath}`);
    assert.equal(refused.status(), 403);
    assert.match(await page.textContent('.error'), /not assigned to wang\.wu/);
    await context.close();
  });

  await check('cashier clerk.zhang confirms an exception and the payment is allocated', async () => {
    const { context, page } = await signIn('clerk.zhang');
    assert.equal(new URL(page.url()).pathname, '/exceptions');
    const section = page.locator('section.exception', { hasText: 'THIRD_PARTY_PAYER' }).first();
    const exceptionId = await section.getAttribute('data-exception');
    const paymentId = await section.getAttribute('data-payment');
    assert.ok(exceptionId && paymentId);
    assert.match(await section.textContent(), /张三/, 'the candidate with its evidence');
    await shot(page, 'cashier-exceptions');

    await section.locator('div.candidate').first().locator('input[name=note]').fill('客户确认由亲属代付 (console e2e)');
    await section.locator('div.candidate').first().locator('button[type=submit]').click();
    await page.waitForURL(/ok=confirmed/);
    assert.match(await page.textContent('.flash'), /已确认/);
    assert.equal(await page.locator(`section[data-exception="${exceptionId}"]`).count(), 0,
      'the exception left the queue');
    await shot(page, 'cashier-exceptions-after');

    // Contracts confirms the allocation a moment later (owner confirms money).
    let status = '';
    for (let i = 0; i < 60 && status !== 'PAYMENT_STATUS_ALLOCATED'; i += 1) {
      await page.goto(`${base}/payments`);
      status = (await page.getAttribute(`tr[data-payment="${paymentId}"]`, 'data-status')) || '';
      if (status !== 'PAYMENT_STATUS_ALLOCATED') await page.waitForTimeout(1000);
    }
    assert.equal(status, 'PAYMENT_STATUS_ALLOCATED', 'the payment was allocated');
    assert.match(await page.textContent(`tr[data-payment="${paymentId}"]`), /已分配.*\/3/s);
    await shot(page, 'cashier-payments');
    await context.close();
  });

  await check('legal lawyer.sun opens a case and downloads its evidence bundle', async () => {
    const { context, page } = await signIn('lawyer.sun');
    assert.equal(new URL(page.url()).pathname, '/legal');
    assert.ok((await page.locator('#cases tbody tr').count()) >= 1);
    await shot(page, 'legal-cases');
    await page.locator('#cases tbody tr a').first().click();
    await page.waitForURL(/\/legal\/[^/]+$/);
    assert.match(await page.textContent('#case-status'), /已立案|律师函|支付令|起诉|判决|执行|结案/);
    await shot(page, 'legal-case');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.click('#bundle-link'),
    ]);
    assert.match(download.suggestedFilename(), /^evidence-.+\.zip$/);
    const file = join(out, download.suggestedFilename());
    await download.saveAs(file);
    const bytes = readFileSync(file);
    assert.equal(bytes.subarray(0, 4).toString('binary'), 'PK\x03\x04', 'a zip file');
    const text = bytes.toString('latin1');
    assert.ok(text.includes('manifest.json') && text.includes('manifest.sig'),
      'the signed manifest is in the bundle (R-L8)');
    console.log(`  bundle ${file}: ${bytes.length} bytes`);
    await context.close();
  });

  await check('supervisor chen.jie reads the dashboards', async () => {
    const { context, page } = await signIn('chen.jie');
    await page.goto(`${base}/dashboards`);
    for (const id of ['#aging', '#kpis', '#forecast', '#provisions']) {
      assert.equal(await page.locator(`${id} .unavailable`).count(), 0, `${id} is available to a supervisor`);
    }
    const bars = await page.locator('#aging rect.bar').evaluateAll((rects) =>
      rects.map((r) => Number(r.getAttribute('height'))));
    assert.equal(bars.length, 6, 'one bar per aging bucket');
    assert.ok(bars.some((h) => h > 0), 'some balance is outstanding');
    assert.equal(await page.locator('#kpis svg').count(), 2, 'CEI and DSO trend');
    // R-O1: the 12-week forecast (three sources a week) and, when reporting could hold weeks
    // back, its forecast against actual with the measured error.
    const forecastCharts = await page.locator('#forecast svg').count();
    assert.ok(forecastCharts >= 1, 'the forecast is drawn');
    assert.match(await page.textContent('#forecast'), /未来12周预计回款/);
    assert.equal(await page.locator('#forecast figure').last().locator('rect.bar').count(), 36, '12 weeks × 3 sources');
    assert.equal(await page.locator('#forecast-error').count(), forecastCharts - 1, 'the backtest states its error');
    assert.ok((await page.locator('#provisions rect.bar').count()) >= 1, 'provisions by bucket');
    assert.match(await page.textContent('#provisions'), /1231|6702|坏账准备/);
    await shot(page, 'dashboards');
    await context.close();
  });

  await check('legal may not read provisions: the section says so, the page stays', async () => {
    const { context, page } = await signIn('lawyer.sun');
    await page.goto(`${base}/dashboards`);
    assert.equal(await page.locator('#provisions .unavailable').getAttribute('data-code'), 'PermissionDenied');
    assert.equal(await page.locator('#aging .unavailable').count(), 0);
    await context.close();
  });

  console.log('\nconsole end-to-end: all checks passed');
} finally {
  await browser.close();
}
