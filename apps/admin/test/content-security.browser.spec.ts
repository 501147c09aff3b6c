import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildAdminIfNeeded } from '../../../scripts/build-admin-if-needed.mjs';
import { startTestHub, type TestHub } from '../../hub/test/support/test-hub.js';
import { launchChromium, watchConsole } from './support/chromium.js';

/** Waits for something the page shows: generous, the machine is shared. */
const UI_TIMEOUT_MS = 15_000;

/**
 * The hub's Content-Security-Policy in real Chromium: the dashboard and the API docs run under theirs without a
 * single violation, and a violation, were there one, would fail the tests that watch the console.
 * (dashboard.browser.spec.ts drives every page of the dashboard under the same watch.)
 */
describe('Content-Security-Policy in Chromium', () => {
  let hub: TestHub;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let watch: Awaited<ReturnType<typeof watchConsole>>;

  beforeAll(async () => {
    await buildAdminIfNeeded();
    hub = await startTestHub();
    browser = await launchChromium();
  });
  beforeEach(async () => {
    await context?.close();
    context = await browser.newContext();
    page = await context.newPage();
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    watch = await watchConsole(page);
  });
  afterAll(async () => {
    await browser?.close();
    await hub?.close();
  });

  it('runs the dashboard, signed in and live over its WebSocket, without a violation', async () => {
    const response = await page.goto(`${hub.baseUrl}/`);
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    await page.getByLabel('Admin token').fill(hub.adminToken!);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect
      .poll(() => page.getByTestId('connection-status').getAttribute('data-state'), { timeout: UI_TIMEOUT_MS })
      .toBe('live');
    // The overview draws its charts (uPlot sets its styles through the CSSOM, which the policy allows).
    await page.locator('.uplot').first().waitFor();
    expect(watch.errors).toEqual([]);
  });

  it('reports what the policy blocks: an inline script, an inline style attribute', async () => {
    await page.goto(`${hub.baseUrl}/`);
    await page.getByLabel('Admin token').waitFor();
    // (page.evaluate itself runs outside the page's policy, as DevTools does; what it adds to the page does not.)
    const ran = await page.evaluate(() => {
      const script = document.createElement('script');
      script.textContent = 'window.injected = true';
      document.body.append(script);
      document.body.insertAdjacentHTML('beforeend', '<p id="styled" style="color: rgb(255, 0, 0)">styled</p>');
      return {
        script: (window as unknown as { injected?: boolean }).injected === true,
        styled: getComputedStyle(document.getElementById('styled')!).color === 'rgb(255, 0, 0)',
      };
    });
    expect(ran).toEqual({ script: false, styled: false });
    await expect
      .poll(() => watch.errors.filter((error) => error.startsWith('CSP violation')).join('\n'))
      .toMatch(/script-src-elem blocked inline[\s\S]*style-src-attr blocked inline/);
  });

  it('renders the API docs under their own policy without a violation', async () => {
    const response = await page.goto(`${hub.baseUrl}/api/docs`);
    // Without 'unsafe-inline' Swagger UI's <style> blocks, a style attribute and the styles its bundle inserts
    // are refused (four violations, tried): the docs, and only they, get it.
    expect(response?.headers()['content-security-policy']).toContain("style-src 'self' 'unsafe-inline'");
    // Swagger UI has fetched the document and drawn an operation per route.
    await page.locator('.opblock').first().waitFor();
    expect(await page.locator('.opblock').count()).toBeGreaterThan(10);
    await page.getByRole('button', { name: /Authorize/ }).click();
    await page.getByText('Available authorizations').waitFor();
    expect(watch.errors).toEqual([]);
  });
});
