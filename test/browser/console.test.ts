import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineModule } from '../../src/module';
import { modules } from '../../src/modules';
import { defineProjection } from '../../src/readmodel';
import { json, startTestApp, type TestApp, validOrder } from '../support/app';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium)
  console.log(`skipped: the console's browser tests need Chromium at ${CHROMIUM} (apt-get install chromium)`);

const ADMIN_TOKEN = 'console-browser-test-token';
const SCREENSHOTS = join(process.cwd(), 'docs');

/** A projection whose handler fails while `failing` is set: what parks an event, and lets its replay work. */
const flaky = { failing: true };
const flakyModule = defineModule({
  name: 'flaky',
  events: { Noted: { current: 1 } },
  projections: [
    defineProjection<{ type: 'Noted'; data: { n: number } }>({
      name: 'flaky-view',
      version: 1,
      streams: ['note-'],
      handlers: {
        Noted: (event, w) => {
          if (flaky.failing) throw new Error('flaky-view fails on purpose (test)');
          w.hset(`note:${event.stream}`, { n: String(event.data.n) });
        },
      },
    }),
  ],
  commands: () => ({}),
  queries: {},
  routes: () => {},
});

describe.skipIf(!haveChromium)(
  'the console in a real browser (Chromium, real HTTP, Redis and SQLite)',
  () => {
    let t: TestApp;
    let browser: Browser;
    let page: Page;
    const pageErrors: string[] = [];
    const otherHosts: string[] = [];
    let refused401 = 0;

    beforeAll(async () => {
      t = await startTestApp({ ADMIN_TOKEN }, { modules: [...modules, flakyModule], adminFeedEveryMs: 250 });
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: ['--no-sandbox', '--disable-background-networking'],
      });
      page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      page.on('pageerror', (error) => pageErrors.push(error.message));
      page.on('console', (message) => {
        if (message.type() !== 'error') return;
        // The wrong-token scenario's refused request is logged by the browser itself: counted apart.
        if (/status of 401/.test(message.text())) refused401 += 1;
        else pageErrors.push(message.text());
      });
      const origin = new URL(t.baseUrl).origin;
      page.on('request', (request) => {
        if (new URL(request.url()).origin !== origin) otherHosts.push(request.url());
      });
    });
    afterAll(async () => {
      await browser?.close();
      await t?.stop();
    });

    const cellOf = (projection: string, column: number) =>
      page.locator(`#projections tr[data-projection="${projection}"] td`).nth(column);

    it('given the page, then it asks for the admin token, refuses a wrong one, and with the right one shows every projection live', async () => {
      const response = await page.goto(`${t.baseUrl}/console`);
      expect(response?.headers()['content-security-policy']).toContain("default-src 'none'");
      await expect(page.getByLabel('Admin token').getAttribute('type')).resolves.toBe('password');
      expect(await page.locator('#console').isHidden()).toBe(true);

      await page.getByLabel('Admin token').fill('not-the-admin-token-at-all');
      await page.getByRole('button', { name: 'Open' }).click();
      await page.getByText('That is not the admin token.').waitFor();

      await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
      await page.getByRole('button', { name: 'Open' }).click();
      await page.locator('#projections tbody tr').nth(4).waitFor();
      const names = await page.locator('#projections tbody tr td:first-child').allTextContents();
      expect(names.sort()).toEqual([
        'customer-orders',
        'daily-revenue',
        'flaky-view',
        'order-view',
        'orders-index',
      ]);
      expect(await page.evaluate("sessionStorage.getItem('sluice-admin-token')")).toBe(ADMIN_TOKEN);
    });

    it('given an order placed over the API, then it appears in the feed of new events, and its stream shows its events with correlation ids', async () => {
      const correlationId = `browser-${Date.now()}`;
      const res = await t.http('/orders', json(validOrder(), { 'x-correlation-id': correlationId }));
      const { orderId } = (await res.json()) as { orderId: string };
      await page.locator('#feed li', { hasText: `order-${orderId}@0` }).waitFor();
      expect(await page.locator('#feed li').first().textContent()).toContain('OrderPlaced');

      await page.getByLabel('Stream, order id or correlation id').fill(orderId);
      await page.getByRole('button', { name: 'Search' }).click();
      await page.locator('#results li').first().waitFor();
      expect(await page.locator('#search-what').textContent()).toBe(`stream order-${orderId}`);
      expect(await page.locator('#results li strong').allTextContents()).toEqual(['OrderPlaced']);
      expect(await page.locator('#results li .metadata').first().textContent()).toContain(correlationId);

      await page.getByLabel('Stream, order id or correlation id').fill(correlationId);
      await page.getByRole('button', { name: 'Search' }).click();
      await page.getByText(`correlation id ${correlationId}`).waitFor();
      expect(await page.locator('#results li code').allTextContents()).toEqual([`order-${orderId}@0`]);
      // `CONSOLE_SCREENSHOTS=1 npx vitest run test/browser` refreshes the picture in docs/ (the README shows it).
      if (process.env.CONSOLE_SCREENSHOTS === '1')
        await page.screenshot({ path: join(SCREENSHOTS, 'console.png') });
    });

    it('given an event its handler keeps failing on, then the page shows it parked with its error, and after the fix its replay from the page applies it', async () => {
      flaky.failing = true;
      await t.app.store.append(
        'note-1',
        [{ id: crypto.randomUUID(), type: 'Noted', data: { n: 1 }, metadata: {} }],
        {
          expectedRevision: 'no_stream',
        },
      );
      await expect.poll(async () => cellOf('flaky-view', 8).textContent(), { timeout: 10_000 }).toBe('1');
      await page
        .locator('#projections tr[data-projection="flaky-view"]')
        .getByRole('button', { name: 'Parked' })
        .click();
      await page.locator('#parked-list li', { hasText: 'flaky-view fails on purpose' }).waitFor();

      flaky.failing = false;
      await page.getByRole('button', { name: 'Replay parked events' }).click();
      await page.getByText('replayed 1, failed 0, remaining 0').waitFor();
      await page.getByText('No parked events.').waitFor();
      await expect.poll(async () => cellOf('flaky-view', 8).textContent(), { timeout: 5000 }).toBe('0');
    });

    it('given a rebuild started from the page, then the page follows it to the next generation, running, and draws each projection’s lag', async () => {
      const row = page.locator('#projections tr[data-projection="order-view"]');
      const before = await cellOf('order-view', 2).textContent();
      await row.getByRole('button', { name: 'Rebuild' }).click();
      await expect
        .poll(
          async () => [
            await cellOf('order-view', 2).textContent(),
            await cellOf('order-view', 1).textContent(),
          ],
          {
            timeout: 15_000,
          },
        )
        .toEqual([`g${Number(before!.slice(1)) + 1}`, 'running']);
      expect(await page.locator('#lag-chart polyline').count()).toBe(5);
    });

    it('given every scenario above, then no page script error, no request to another host, and the one refused login', () => {
      expect(pageErrors).toEqual([]);
      expect(otherHosts).toEqual([]);
      expect(refused401).toBe(1);
    });
  },
);
