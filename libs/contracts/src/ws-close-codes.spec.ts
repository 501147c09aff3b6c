import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ADMIN_CLOSE } from './admin-protocol.js';
import { DEVICE_WS_CLOSE, deviceWsCloseStatus } from './device-ws.close-codes.js';

const docs = (name: string) => readFileSync(new URL(`../../../docs/${name}`, import.meta.url), 'utf8');

/** The rows of the Markdown table that follows `heading`, split into trimmed cells. */
function tableAfter(text: string, heading: string): string[][] {
  const start = text.indexOf(heading);
  expect(start, `${heading} in the docs`).toBeGreaterThanOrEqual(0);
  const lines = text.slice(start).split('\n').slice(1);
  const first = lines.findIndex((line) => line.startsWith('|'));
  const rows: string[][] = [];
  for (const line of lines.slice(first)) {
    if (!line.startsWith('|')) break;
    rows.push(
      line
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim()),
    );
  }
  return rows.slice(2);
}

describe('DEVICE_WS_CLOSE', () => {
  it('is what docs/device-protocol.md tells device authors, code and reason text', () => {
    const rows = tableAfter(docs('device-protocol.md'), '### Close codes');
    for (const [name, { code, reason }] of Object.entries(DEVICE_WS_CLOSE)) {
      const row = rows.find(([codes]) => codes!.split(/\D+/).includes(String(code)));
      expect(row, `${name} (${code}) has a row`).toBeDefined();
      if (reason) expect(row![1], `${name}'s reason`).toContain(`\`${reason}\``);
    }
  });

  it('finds a session close reason by name, and nothing for reasons the device is not told', () => {
    expect(deviceWsCloseStatus('taken_over')).toEqual({ code: 4000, reason: 'session taken over' });
    expect(deviceWsCloseStatus('socket_closed')).toBeUndefined();
    expect(deviceWsCloseStatus('toString')).toBeUndefined();
  });
});

describe('ADMIN_CLOSE', () => {
  it('has every code in docs/admin-protocol.md', () => {
    const text = docs('admin-protocol.md');
    for (const [name, code] of Object.entries(ADMIN_CLOSE)) {
      expect(text, `${name} (${code})`).toContain(`\`${code}\``);
    }
  });
});
