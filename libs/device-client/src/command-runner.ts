import { COMMAND_LIMITS, CommandResultPayloadSchema } from '@telehub/contracts';
import { CommandDedupe } from './command-dedupe.js';
import { asDeviceClientError, type DeviceClientError } from './device-client.error.js';
import type { CommandHandler, CommandOutcome, DeviceCommand } from './device-client.js';

/** How a transport answers commands. `R` is what it needs to route a result (MQTT 5: the response topic). */
export interface CommandChannel<R> {
  /** WebSocket: the command_ack frame, resolved on the hub's ack. MQTT: nothing to do, MQTT.js sent the PUBACK. */
  acknowledge(command: DeviceCommand): Promise<void>;
  /** Resolves once the hub acknowledged the result (it is stored). */
  sendResult(command: DeviceCommand, outcome: CommandOutcome, route: R): Promise<void>;
}

export interface CommandRunnerHooks {
  answered(command: DeviceCommand, outcome: CommandOutcome): void;
  failed(error: DeviceClientError): void;
}

interface PendingResult<R> {
  command: DeviceCommand;
  outcome: CommandOutcome;
  route: R;
}

/**
 * Runs each command once and makes sure its result reaches the hub: a command delivered again (at-least-once)
 * is not run again, but its remembered result is sent again; a result that could not be sent because the
 * connection dropped is sent on the next connection (the hub does not resend a command it saw acknowledged).
 */
export class CommandRunner<R> {
  private handler: CommandHandler | undefined;
  private readonly dedupe: CommandDedupe;
  private readonly unsent = new Map<string, PendingResult<R>>();

  constructor(
    private readonly capacity: number,
    private readonly channel: CommandChannel<R>,
    private readonly hooks: CommandRunnerHooks,
  ) {
    this.dedupe = new CommandDedupe(capacity);
  }

  get hasHandler(): boolean {
    return this.handler !== undefined;
  }

  setHandler(handler: CommandHandler): void {
    this.handler = handler;
  }

  /** Never rejects: failures go to hooks.failed. Without a handler the command is left for a client that has one. */
  async receive(command: DeviceCommand, route: R): Promise<void> {
    if (!this.handler) return;
    const sighting = this.dedupe.begin(command.id);
    const acknowledged = await this.acknowledge(command);
    if (sighting.kind === 'running') return;
    if (!acknowledged) {
      // Not acknowledged: the hub sends it again on the next connection, and that delivery should run it.
      if (sighting.kind === 'new') this.dedupe.forget(command.id);
      return;
    }
    if (sighting.kind === 'finished') return this.deliver({ command, outcome: sighting.outcome, route });
    const outcome = await this.run(command);
    this.dedupe.finish(command.id, outcome);
    await this.deliver({ command, outcome, route });
  }

  /** Sends the results that the last connection could not (called on every reconnect). */
  async flush(): Promise<void> {
    for (const pending of [...this.unsent.values()]) await this.deliver(pending);
  }

  private async acknowledge(command: DeviceCommand): Promise<boolean> {
    try {
      await this.channel.acknowledge(command);
      return true;
    } catch (error) {
      const failure = asDeviceClientError(error, 'ERR_REJECTED', `acknowledging command ${command.id}`);
      if (!isConnectionGone(failure) && !isAlreadySettled(failure)) this.hooks.failed(failure);
      return false;
    }
  }

  private async run(command: DeviceCommand): Promise<CommandOutcome> {
    try {
      const outcome = await this.handler!(command);
      const parsed = CommandResultPayloadSchema.safeParse(outcome);
      if (parsed.success) return parsed.data;
      const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'outcome'}: ${issue.message}`);
      return failure(`the command handler returned an invalid outcome (${problems.join('; ')})`);
    } catch (error) {
      return failure(error instanceof Error ? error.message : String(error));
    }
  }

  private async deliver(pending: PendingResult<R>): Promise<void> {
    const { command, outcome, route } = pending;
    try {
      await this.channel.sendResult(command, outcome, route);
      this.unsent.delete(command.id);
      this.hooks.answered(command, outcome);
    } catch (error) {
      const failure = asDeviceClientError(error, 'ERR_REJECTED', `sending the result of command ${command.id}`);
      if (isConnectionGone(failure)) {
        this.unsent.delete(command.id);
        this.unsent.set(command.id, pending);
        // Bounded like the dedupe memory: past it, the oldest result is given up (its command will expire).
        if (this.unsent.size > this.capacity) this.unsent.delete(this.unsent.keys().next().value!);
        return;
      }
      this.unsent.delete(command.id);
      // Already final at the hub: usually our own earlier copy of this result got there first.
      if (!isAlreadySettled(failure)) this.hooks.failed(failure);
    }
  }
}

function failure(message: string): CommandOutcome {
  return { status: 'error', error: message.slice(0, COMMAND_LIMITS.errorMaxLength) };
}

function isConnectionGone(error: DeviceClientError): boolean {
  return error.code === 'ERR_CONNECTION_LOST' || error.code === 'ERR_NOT_CONNECTED' || error.code === 'ERR_CLOSED';
}

/** MQTT 5 PUBACK 0x80 or WebSocket command_final/unknown_command: the hub has nothing more to learn from us. */
function isAlreadySettled(error: DeviceClientError): boolean {
  return (
    error.code === 'ERR_REJECTED' &&
    (error.reasonCode === 0x80 || error.hubCode === 'command_final' || error.hubCode === 'unknown_command')
  );
}
