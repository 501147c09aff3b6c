import { describe, expect, it } from 'vitest';
import { parseDuration, parseSimulatorArgs, type SimulatorOptions, USAGE } from './simulator-options.js';

function options(argv: string[], env: Record<string, string> = {}): SimulatorOptions {
  const parsed = parseSimulatorArgs(argv, env);
  if (parsed.help) throw new Error('unexpected --help');
  return parsed.options;
}

describe('parseSimulatorArgs', () => {
  it('answers --help and -h', () => {
    expect(parseSimulatorArgs(['--help'], {})).toEqual({ help: true });
    expect(parseSimulatorArgs(['-h', '--devices', 'x'], {})).toEqual({ help: true });
    expect(USAGE).toContain('--fail-share');
  });

  it('has defaults for a hub on this machine', () => {
    expect(options(['--seed', '7'])).toEqual({
      hubUrl: 'http://localhost:8080',
      adminToken: undefined,
      adminTokenFile: '.telehub/admin-token',
      transport: 'mqtt5',
      mqttUrl: undefined,
      devices: 10,
      label: 'simulator',
      csvIn: undefined,
      csvOut: undefined,
      connectRate: 50,
      intervalMs: 1000,
      jitter: 0.2,
      batch: 1,
      seed: 7,
      failShare: 0.1,
      commandDelayMs: 1000,
      durationMs: undefined,
    });
  });

  it('reads every option and the admin token from the environment', () => {
    const parsed = options(
      [
        '--hub=https://hub.example:9443/',
        '--transport',
        'ws',
        '--devices',
        '250',
        '--label',
        'floor:2',
        '--write-csv',
        'out.csv',
        '--connect-rate',
        '20',
        '--interval',
        '250ms',
        '--jitter',
        '0',
        '--batch',
        '10',
        '--fail-share',
        '1',
        '--command-delay',
        '0s',
        '--duration',
        '1.5m',
      ],
      { TELEHUB_ADMIN_TOKEN: 'tha_from_env', TELEHUB_DATA_DIR: '/var/lib/telehub' },
    );
    expect(parsed).toMatchObject({
      hubUrl: 'https://hub.example:9443',
      adminToken: 'tha_from_env',
      adminTokenFile: '/var/lib/telehub/admin-token',
      transport: 'ws',
      mqttUrl: undefined,
      devices: 250,
      label: 'floor:2',
      csvOut: 'out.csv',
      connectRate: 20,
      intervalMs: 250,
      jitter: 0,
      batch: 10,
      failShare: 1,
      commandDelayMs: 0,
      durationMs: 90_000,
    });
    expect(options(['--admin-token', 'tha_flag'], { TELEHUB_ADMIN_TOKEN: 'tha_env' }).adminToken).toBe('tha_flag');
    expect(options(['--mqtt-url', 'mqtts://hub.example:8883']).mqttUrl).toBe('mqtts://hub.example:8883');
  });

  it('uses every device of a CSV unless --devices limits it', () => {
    expect(options(['--csv', 'in.csv']).devices).toBeUndefined();
    expect(options(['--csv', 'in.csv', '--devices', '3']).devices).toBe(3);
  });

  it.each([
    [['--devices', '0'], /--devices must be a whole number from 1 to 20000, got "0"/],
    [['--devices', '1.5'], /--devices must be a whole number/],
    [['--devices', '20001'], /--devices must be a whole number from 1 to 20000/],
    [['--transport', 'coap'], /--transport must be mqtt, mqtt5 or ws, got "coap"/],
    [['--interval', '5'], /--interval must be a duration like 500ms, 1s or 2m, got "5"/],
    [['--interval', '1ms'], /--interval must be at least 10ms/],
    [['--jitter', '1.5'], /--jitter must be a number from 0 to 1/],
    [['--fail-share', 'half'], /--fail-share must be a number from 0 to 1, got "half"/],
    [['--batch', '1001'], /--batch must be a whole number from 1 to 1000/],
    [['--hub', 'localhost:8080'], /--hub must be an http:\/\/ or https:\/\/ address/],
    [['--mqtt-url', 'tcp//x'], /--mqtt-url must be mqtt:\/\//],
    [['--label', 'two words'], /--label holds 1-100 letters/],
    [['--csv', 'a.csv', '--write-csv', 'a.csv'], /--write-csv must name another file than --csv/],
    [['--devcies', '3'], /Unknown option '--devcies'/],
    [['extra'], /Unexpected argument 'extra'/],
  ])('refuses %j with a message naming the option', (argv, message) => {
    expect(() => parseSimulatorArgs(argv, {})).toThrow(message);
  });
});

describe('parseDuration', () => {
  it('reads ms, s, m and h, and wants a unit', () => {
    expect(['500ms', '1s', '1.5s', '2m', '1h', ' 3s '].map(parseDuration)).toEqual([
      500, 1000, 1500, 120_000, 3_600_000, 3000,
    ]);
    expect(['5', 's', '-1s', '1 s', '1d'].map(parseDuration)).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });
});
