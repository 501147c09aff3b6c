import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../../admin/test/support/chromium.js';
import { countRows, eventually } from './support/devices.js';
import {
  commandLines,
  expectedAnswers,
  type ReadmeBlock,
  readmeBlocks,
  runsUntilStopped,
} from './support/readme-blocks.js';
import { ShellSession } from './support/shell-session.js';
import { startTestHub, type TestHub } from './support/test-hub.js';

/**
 * The README's walk-through, run as a reader runs it: every code block of these sections, top to bottom, in one
 * shell, against a hub started the way `npm start` starts one (no admin token given: the hub makes one and saves
 * it to ./.telehub/admin-token, which the first block reads). The blocks are read from README.md itself, so the
 * README and this test cannot drift apart. Conventions (answer lines, Ctrl-C loops): support/readme-blocks.ts.
 *
 * Only what must differ is changed: the hub's ports (the README's `localhost:8080` and `-p 1883`; the test hub
 * listens on ephemeral ones). The device token for the browser snippet is the one the shell holds.
 */
const WALK_THROUGH = [
  'Walk-through with curl',
  'Sending telemetry',
  'Sending commands',
  'History',
  'Deleting a device',
];
const README_HTTP = 'localhost:8080';
const README_MQTT_PORT = '-p 1883';
/** In the browser snippet: where the reader pastes their device token. */
const TOKEN_PLACEHOLDER = "'thd_…'";
const BLOCK_TIMEOUT_MS = 60_000;
/** Messages of the Ctrl-C loop to see committed before stopping it. */
const LOOP_MESSAGES = 3;

const readme = await readFile(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8');
const blocks = readmeBlocks(readme, WALK_THROUGH);

describe('the README walk-through', () => {
  let dir: string;
  let hub: TestHub;
  let session: ShellSession;
  let browser: Browser | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'telehub-readme-'));
    const home = join(dir, 'telehub');
    const scratch = join(dir, 'blocks');
    await mkdir(home);
    await mkdir(scratch);
    hub = await startTestHub({}, { withoutAdminToken: true, dataDir: join(home, '.telehub') });
    session = new ShellSession(home, scratch);
  });
  afterAll(async () => {
    await session?.close();
    await browser?.close();
    await hub?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** The block with the test hub's ports in place of the README's. */
  function localize(text: string): string {
    const httpPort = new URL(hub.baseUrl).port;
    return text.replaceAll(README_HTTP, `localhost:${httpPort}`).replaceAll(README_MQTT_PORT, `-p ${hub.hub.mqttPort}`);
  }

  function expectAnswers(block: ReadmeBlock, printed: string): void {
    let rest = printed;
    for (const answer of expectedAnswers(block)) {
      const match = answer.pattern.exec(rest);
      if (!match) {
        throw new Error(
          `README.md line ${block.line} (${block.section}): the answer it shows\n  ${answer.text}\n` +
            `did not appear in what the block printed:\n${rest}`,
        );
      }
      rest = rest.slice(match.index + match[0].length);
    }
  }

  it('has shell blocks in every section, and each names the ports the test moves', () => {
    for (const section of WALK_THROUGH) {
      expect(
        blocks.filter((block) => block.section === section && block.lang === 'sh').length,
        section,
      ).toBeGreaterThan(0);
    }
    expect(blocks.every((block) => block.lang === 'sh' || block.lang === 'js')).toBe(true);
    for (const block of blocks.filter((candidate) => candidate.lang === 'sh')) {
      // A mosquitto command without -p would reach whatever listens on 1883, not the hub the walk-through started.
      for (const line of commandLines(block).filter((command) => /\bmosquitto_(pub|sub)\b/.test(command))) {
        expect(line, `README.md line ${block.line}`).toContain(README_MQTT_PORT);
      }
    }
    for (const block of blocks) {
      expect(localize(block.text), `README.md line ${block.line}`).not.toMatch(/\b(8080|1883)\b/);
    }
    expect(blocks.filter(runsUntilStopped)).toHaveLength(1);
  });

  it('runs block after block in one shell, and each prints the answers the README shows', async () => {
    for (const block of blocks) {
      const where = `README.md line ${block.line} (${block.section})`;
      if (block.lang === 'js') {
        await runBrowserSnippet(block);
      } else if (runsUntilStopped(block)) {
        // The loop sends a message a second until Ctrl-C: see it commit a few, then press Ctrl-C.
        const device = await session.variable('DEVICE');
        const before = await countRows(hub, device, 'temp');
        const pid = await session.start(localize(block.text), BLOCK_TIMEOUT_MS);
        await eventually(
          async () => !session.running(pid) || (await countRows(hub, device, 'temp')) >= before + LOOP_MESSAGES,
          30_000,
        );
        const rows = await countRows(hub, device, 'temp');
        expect(rows, `${where}: the loop's messages\n${session.output}`).toBeGreaterThanOrEqual(before + LOOP_MESSAGES);
        expect(session.running(pid), `${where}: the loop ended by itself\n${session.output}`).toBe(true);
        await session.interrupt(pid, BLOCK_TIMEOUT_MS);
      } else {
        let printed: string;
        try {
          printed = await session.run(localize(block.text), BLOCK_TIMEOUT_MS);
        } catch (error) {
          throw new Error(`${where}: ${(error as Error).message}`);
        }
        expectAnswers(block, printed);
      }
    }

    // The last block deleted the device: its token is gone with it.
    const device = await session.variable('DEVICE');
    expect(device).toMatch(/^[0-9a-f-]{36}$/);
    const token = (await readFile(join(dir, 'telehub', '.telehub', 'admin-token'), 'utf8')).trim();
    const after = await fetch(`${hub.baseUrl}/api/v1/devices/${device}`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(after.status).toBe(404);
  }, 240_000);

  /** The "browser console" snippet, pasted into the console of the dashboard's tab, with the reader's device token. */
  async function runBrowserSnippet(block: ReadmeBlock): Promise<void> {
    expect(block.text, `README.md line ${block.line}`).toContain(TOKEN_PLACEHOLDER);
    const token = await session.variable('DEVICE_TOKEN');
    expect(token).toMatch(/^thd_/);
    const code = localize(block.text).replace(TOKEN_PLACEHOLDER, `'${token}'`);
    browser ??= await launchChromium();
    const page = await browser.newPage();
    try {
      const logged: string[] = [];
      page.on('console', (message) => logged.push(message.text()));
      page.on('pageerror', (error) => logged.push(`page error: ${error.message}`));
      await page.goto(`http://localhost:${new URL(hub.baseUrl).port}/`);
      await page.evaluate(code);
      const answers = expectedAnswers(block);
      expect(answers.length).toBeGreaterThan(0);
      const seen = await eventually(
        async () => answers.every((answer) => logged.some((line) => answer.pattern.test(line))),
        10_000,
      );
      expect(seen, `README.md line ${block.line}: the console showed\n${logged.join('\n')}`).toBe(true);
    } finally {
      await page.close();
    }
  }
});
