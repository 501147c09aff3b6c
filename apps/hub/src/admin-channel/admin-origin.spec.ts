import { describe, expect, it } from 'vitest';
import { originAllowed } from './admin-origin.js';

describe('originAllowed', () => {
  it("allows the hub's own origin over http or https, with or without the default port", () => {
    expect(originAllowed('http://127.0.0.1:8080', '127.0.0.1:8080', [])).toBe(true);
    expect(originAllowed('https://hub.example.com:8080', 'hub.example.com:8080', [])).toBe(true);
    expect(originAllowed('https://hub.example.com', 'hub.example.com', [])).toBe(true);
    expect(originAllowed('https://hub.example.com', 'hub.example.com:443', [])).toBe(true);
    expect(originAllowed('http://HUB.example.com', 'hub.example.COM:80', [])).toBe(true);
  });

  it('refuses another host, another port, and origins that are not web pages', () => {
    expect(originAllowed('http://evil.example', '127.0.0.1:8080', [])).toBe(false);
    expect(originAllowed('http://127.0.0.1:9999', '127.0.0.1:8080', [])).toBe(false);
    expect(originAllowed('https://hub.example.com', 'hub.example.com:8443', [])).toBe(false);
    expect(originAllowed('null', '127.0.0.1:8080', [])).toBe(false);
    expect(originAllowed('file:///tmp/x.html', '127.0.0.1:8080', [])).toBe(false);
    expect(originAllowed('http://127.0.0.1:8080', undefined, [])).toBe(false);
  });

  it('allows the configured origins, and clients that send no Origin (not browsers)', () => {
    expect(originAllowed('https://dash.example.com', '127.0.0.1:8080', ['https://dash.example.com'])).toBe(true);
    expect(originAllowed('https://dash.example.com:8443', '127.0.0.1:8080', ['https://dash.example.com'])).toBe(false);
    expect(originAllowed(undefined, '127.0.0.1:8080', [])).toBe(true);
  });
});
