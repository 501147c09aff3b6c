import { describe, expect, it } from 'vitest';
import { type CommandChannel, CommandRunner } from './command-runner.js';
import { DeviceClientError } from './device-client.error.js';
import type { CommandOutcome, DeviceCommand } from './device-client.js';

const command = (id: string): DeviceCommand => ({ id, name: 'reboot', params: {}, expiresAt: '2030-01-01T00:00:00Z' });

/** A channel that records what the runner sends and fails the way it is told to. */
class RecordingChannel implements CommandChannel<string> {
  acks: string[] = [];
  results: { id: string; outcome: CommandOutcome; route: string }[] = [];
  ackFailure: DeviceClientError | undefined;
  resultFailures: DeviceClientError[] = [];

  async acknowledge(sent: DeviceCommand): Promise<void> {
    this.acks.push(sent.id);
    if (this.ackFailure) throw this.ackFailure;
  }

  async sendResult(sent: DeviceCommand, outcome: CommandOutcome, route: string): Promise<void> {
    const failure = this.resultFailures.shift();
    if (failure) throw failure;
    this.results.push({ id: sent.id, outcome, route });
  }
}

function setup() {
  const channel = new RecordingChannel();
  const answered: string[] = [];
  const failed: DeviceClientError[] = [];
  const runner = new CommandRunner(100, channel, {
    answered: (sent) => answered.push(sent.id),
    failed: (error) => failed.push(error),
  });
  return { channel, runner, answered, failed };
}

const lost = () => new DeviceClientError('ERR_CONNECTION_LOST', 'gone');

describe('CommandRunner', () => {
  it('acknowledges, runs the handler and sends its outcome on the route the command came with', async () => {
    const { channel, runner, answered } = setup();
    runner.setHandler((received) => ({ status: 'ok', result: { ran: received.name } }));
    await runner.receive(command('a'), 'route-a');
    expect(channel.acks).toEqual(['a']);
    expect(channel.results).toEqual([
      { id: 'a', outcome: { status: 'ok', result: { ran: 'reboot' } }, route: 'route-a' },
    ]);
    expect(answered).toEqual(['a']);
  });

  it('ignores commands until a handler is set, without acknowledging them', async () => {
    const { channel, runner } = setup();
    await runner.receive(command('a'), 'r');
    expect(channel.acks).toEqual([]);
  });

  it('runs a command delivered twice once; a copy arriving after it finished gets the same result again', async () => {
    const { channel, runner } = setup();
    let runs = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    runner.setHandler(async () => {
      runs += 1;
      await gate;
      return { status: 'ok', result: runs };
    });
    const first = runner.receive(command('a'), 'r1');
    await runner.receive(command('a'), 'r2'); // while the first is running
    release();
    await first;
    await runner.receive(command('a'), 'r3'); // after it finished
    expect(runs).toBe(1);
    expect(channel.acks).toEqual(['a', 'a', 'a']);
    expect(channel.results.map((sent) => [sent.route, sent.outcome])).toEqual([
      ['r1', { status: 'ok', result: 1 }],
      ['r3', { status: 'ok', result: 1 }],
    ]);
  });

  it('turns a throwing handler and an invalid outcome into failed results', async () => {
    const { channel, runner } = setup();
    runner.setHandler(() => {
      throw new Error('valve jammed');
    });
    await runner.receive(command('a'), 'r');
    runner.setHandler(() => ({ status: 'maybe' }) as unknown as CommandOutcome);
    await runner.receive(command('b'), 'r');
    expect(channel.results[0]?.outcome).toEqual({ status: 'error', error: 'valve jammed' });
    expect(channel.results[1]?.outcome).toMatchObject({ status: 'error' });
    expect(channel.results[1]?.outcome.error).toMatch(/invalid outcome.*status/);
  });

  it('keeps a result the connection lost and sends it on flush', async () => {
    const { channel, runner, answered } = setup();
    runner.setHandler(() => ({ status: 'ok' }));
    channel.resultFailures.push(lost());
    await runner.receive(command('a'), 'r');
    expect(channel.results).toEqual([]);
    await runner.flush();
    expect(channel.results.map((sent) => sent.id)).toEqual(['a']);
    expect(answered).toEqual(['a']);
    await runner.flush();
    expect(channel.results).toHaveLength(1);
  });

  it('runs a command whose acknowledgement was lost when it is delivered again', async () => {
    const { channel, runner } = setup();
    let runs = 0;
    runner.setHandler(() => {
      runs += 1;
      return { status: 'ok' };
    });
    channel.ackFailure = lost();
    await runner.receive(command('a'), 'r');
    expect(runs).toBe(0);
    channel.ackFailure = undefined;
    await runner.receive(command('a'), 'r');
    expect(runs).toBe(1);
  });

  it('is quiet when the hub already has a final result, and reports other refusals', async () => {
    const { channel, runner, failed } = setup();
    runner.setHandler(() => ({ status: 'ok' }));
    channel.resultFailures.push(new DeviceClientError('ERR_REJECTED', 'final', { reasonCode: 0x80 }));
    await runner.receive(command('a'), 'r');
    channel.resultFailures.push(new DeviceClientError('ERR_REJECTED', 'not yours', { reasonCode: 0x87 }));
    await runner.receive(command('b'), 'r');
    expect(failed.map((error) => error.reasonCode)).toEqual([0x87]);
    await runner.flush();
    expect(channel.results).toEqual([]);
  });
});
