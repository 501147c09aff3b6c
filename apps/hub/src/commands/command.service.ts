import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { type CreateCommandRequest, isFinalCommandStatus, type ListCommandsQuery } from '@telehub/contracts';
import {
  type CommandRecord,
  CommandRepository,
  DeviceRepository,
  type IdempotentField,
  OPEN_COMMAND_STATUSES,
} from '@telehub/db';
import { ApiError } from '../common/api-error.js';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config.js';
import { deviceNotFound } from '../devices/devices.service.js';
import { HubEvents } from '../events/hub-events.js';

const utf8 = new TextEncoder();

/** What admins do with commands: create (optionally waiting for the result), read, list, cancel. */
@Injectable()
export class CommandService implements OnModuleDestroy {
  /** Ends every `?wait` at shutdown: requests are answered with the command as it stands, not cut off. */
  private readonly shutdown = new AbortController();

  constructor(
    private readonly commands: CommandRepository,
    private readonly devices: DeviceRepository,
    private readonly hubEvents: HubEvents,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
  ) {}

  onModuleDestroy(): void {
    this.shutdown.abort();
  }

  /** `created` is false when the idempotency key named an existing command, which is returned instead. */
  async create(deviceId: string, request: CreateCommandRequest): Promise<{ command: CommandRecord; created: boolean }> {
    const limits = this.config.commands;
    const params = request.params ?? {};
    const paramsBytes = utf8.encode(JSON.stringify(params)).length;
    if (paramsBytes > limits.maxParamsBytes) {
      throw ApiError.validation([
        {
          field: 'params',
          message: `serializes to ${paramsBytes} bytes; at most ${limits.maxParamsBytes} (TELEHUB_COMMAND_MAX_PARAMS_BYTES)`,
        },
      ]);
    }
    const ttlSeconds = request.ttlSeconds ?? limits.defaultTtlSeconds;
    if (ttlSeconds > limits.maxTtlSeconds) {
      throw ApiError.validation([
        {
          field: 'ttlSeconds',
          message: `at most ${limits.maxTtlSeconds} seconds (TELEHUB_COMMAND_MAX_TTL_SECONDS), got ${ttlSeconds}`,
        },
      ]);
    }
    const outcome = await this.commands.create({
      deviceId,
      name: request.name,
      params,
      ttlSeconds,
      idempotencyKey: request.idempotencyKey,
      maxOpenPerDevice: limits.maxQueuedPerDevice,
    });
    switch (outcome.kind) {
      case 'device_not_found':
        throw deviceNotFound(deviceId);
      case 'queue_full':
        throw new ApiError(
          429,
          'command_queue_full',
          'Too many commands waiting for this device',
          `the device has ${outcome.open} commands not yet finished; at most ${limits.maxQueuedPerDevice} (TELEHUB_COMMAND_MAX_QUEUED). Wait for some to finish or expire, or cancel some.`,
        );
      case 'existing':
        return { command: outcome.command, created: false };
      case 'key_reused':
        throw idempotencyKeyReused(request, ttlSeconds, outcome.command, outcome.differing);
      case 'created':
        return { command: outcome.command, created: true };
    }
  }

  /**
   * Holds until the command is final or `seconds` pass (or `signal` aborts, e.g. the client went away), then
   * answers with the command as it stands. Status changes arrive as events from whichever hub process saw them.
   */
  async waitForFinal(command: CommandRecord, seconds: number, signal?: AbortSignal): Promise<CommandRecord> {
    if (seconds > this.config.commands.maxWaitSeconds) {
      throw ApiError.validation([
        {
          field: 'wait',
          message: `at most ${this.config.commands.maxWaitSeconds} seconds (TELEHUB_COMMAND_MAX_WAIT_SECONDS), got ${seconds}`,
        },
      ]);
    }
    if (isFinalCommandStatus(command.status) || seconds <= 0 || this.shutdown.signal.aborted) return command;
    await new Promise<void>((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        unsubscribe();
        signal?.removeEventListener('abort', finish);
        this.shutdown.signal.removeEventListener('abort', finish);
        resolve();
      };
      const timer = setTimeout(finish, seconds * 1000);
      const unsubscribe = this.hubEvents.on('command', (event) => {
        if (event.id === command.id && isFinalCommandStatus(event.status)) finish();
      });
      signal?.addEventListener('abort', finish);
      this.shutdown.signal.addEventListener('abort', finish);
      // The result may have landed between creation and subscribing: look once more.
      void this.commands.findById(command.id).then((current) => {
        if (current && isFinalCommandStatus(current.status)) finish();
      });
    });
    return (await this.commands.findById(command.id)) ?? command;
  }

  async get(deviceId: string, commandId: string): Promise<CommandRecord> {
    const command = await this.commands.findById(commandId);
    if (!command || command.deviceId !== deviceId) throw commandNotFound(deviceId, commandId);
    return command;
  }

  async list(deviceId: string, query: ListCommandsQuery): Promise<{ rows: CommandRecord[]; hasMore: boolean }> {
    if (!(await this.devices.findById(deviceId))) throw deviceNotFound(deviceId);
    return this.commands.list({ deviceId, statuses: query.status, beforeId: query.cursor, limit: query.limit });
  }

  /** Only a command that is not final can be cancelled; a device's later result for it is refused. */
  async cancel(deviceId: string, commandId: string): Promise<CommandRecord> {
    const [cancelled] = await this.commands.transition([commandId], {
      to: 'cancelled',
      from: OPEN_COMMAND_STATUSES,
      deviceId,
    });
    if (cancelled) return cancelled;
    const command = await this.get(deviceId, commandId);
    throw new ApiError(
      409,
      'command_final',
      'The command is already finished',
      `command ${commandId} is ${command.status}; only queued, sent or delivered commands can be cancelled`,
    );
  }
}

/**
 * A key names one request: repeating it with another body is a client bug, refused with 422 as the IETF
 * Idempotency-Key draft (draft-ietf-httpapi-idempotency-key-header, "Error Scenarios") says, rather than answered
 * with a command the client did not ask for.
 */
function idempotencyKeyReused(
  request: CreateCommandRequest,
  ttlSeconds: number,
  existing: CommandRecord,
  differing: IdempotentField[],
): ApiError {
  const storedTtl = Math.round((existing.expiresAt - existing.createdAt) / 1000);
  const messages: Record<IdempotentField, string> = {
    name: `"${request.name}" here, "${existing.name}" in command ${existing.id}`,
    params: `differ from the params of command ${existing.id}`,
    ttlSeconds: `${ttlSeconds} here, ${storedTtl} in command ${existing.id}`,
  };
  return new ApiError(
    422,
    'idempotency_key_reused',
    'Idempotency key already used for a different command',
    `idempotency key "${request.idempotencyKey}" already created command ${existing.id} with a different ${differing.join(', ')}; use a new key for a new command`,
    differing.map((field) => ({ field, message: messages[field] })),
  );
}

function commandNotFound(deviceId: string, commandId: string): ApiError {
  return ApiError.notFound('command_not_found', `device ${deviceId} has no command ${commandId}`);
}
