import { type Browser, chromium, type Page } from 'playwright-core';

/** Debian's Chromium; playwright-core drives it over CDP (no browser download). */
export const CHROMIUM_PATH = process.env.TELEHUB_CHROMIUM ?? '/usr/bin/chromium';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * Every error the page logs or throws, and every Content-Security-Policy violation (the
 * `securitypolicyviolation` event, which fires whether or not the browser also logs the refusal). Network
 * errors are expected only while the test has the hub down on purpose: call `expectNetworkErrors(true)` for
 * that window, and they are set aside instead of counted.
 */
export async function watchConsole(page: Page) {
  const errors: string[] = [];
  const expectedNetworkErrors: string[] = [];
  let networkDown = false;
  const networkError =
    /net::ERR_CONNECTION_(REFUSED|RESET|CLOSED)|WebSocket connection to .* failed|Failed to load resource/;
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const text = message.text();
    if (networkDown && networkError.test(text)) expectedNetworkErrors.push(text);
    else errors.push(`console: ${text}`);
  });
  page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
  await page.exposeBinding('__telehubCspViolation', (_source, text: string) => errors.push(`CSP violation: ${text}`));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      const report = (window as unknown as { __telehubCspViolation(text: string): void }).__telehubCspViolation;
      report(
        `${event.effectiveDirective} blocked ${event.blockedURI || '(inline)'} at ${event.sourceFile}:${event.lineNumber}`,
      );
    });
  });
  return {
    errors,
    expectedNetworkErrors,
    expectNetworkErrors(down: boolean) {
      networkDown = down;
    },
  };
}
