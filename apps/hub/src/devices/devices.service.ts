import { Injectable } from '@nestjs/common';
import type {
  CreateDeviceRequest,
  Device,
  DeviceDetail,
  DeviceEvent,
  DeviceWithToken,
  ListDeviceEventsQuery,
  UpdateDeviceRequest,
} from '@telehub/contracts';
import { DeviceEventRepository, DeviceRepository, TelemetryRepository } from '@telehub/db';
import { generateToken } from '../auth/token-codec.js';
import { DeviceAccess } from '../cluster/device-access.js';
import { ApiError } from '../common/api-error.js';
import { presentDevice, presentDeviceDetail } from './device.presenter.js';
import { DeviceEventLog } from './device-event-log.service.js';

@Injectable()
export class DevicesService {
  constructor(
    private readonly devices: DeviceRepository,
    private readonly telemetry: TelemetryRepository,
    private readonly events: DeviceEventRepository,
    private readonly access: DeviceAccess,
    private readonly eventLog: DeviceEventLog,
  ) {}

  /** Creates devices with one token each, all or none; the tokens are returned this once. */
  async create(requests: CreateDeviceRequest[]): Promise<DeviceWithToken[]> {
    const entries = requests.map((device) => ({ device, token: generateToken('device') }));
    const rows = await this.devices.createWithTokens(
      entries.map(({ device, token }) => ({ device, token: { tokenHash: token.hash, hint: token.hint } })),
    );
    return rows.map((row, index) => ({ ...presentDevice(row), token: entries[index]!.token.token }));
  }

  /** The device with its latest values and reported state. */
  async get(id: string): Promise<DeviceDetail> {
    const row = await this.devices.findById(id);
    if (!row) throw deviceNotFound(id);
    return presentDeviceDetail(row, await this.telemetry.latestForDevice(id));
  }

  /** Newest first, short sessions grouped; `cursor` is the id of the last entry of the previous page. */
  async recentEvents(id: string, query: ListDeviceEventsQuery): Promise<DeviceEvent[]> {
    await this.assertExists(id);
    if (query.cursor !== undefined && !(await this.events.belongsTo(query.cursor, id))) {
      throw ApiError.validation([{ field: 'cursor', message: `device ${id} has no event ${query.cursor}` }]);
    }
    return this.eventLog.page(id, query);
  }

  async update(id: string, patch: UpdateDeviceRequest): Promise<Device> {
    const row = await this.devices.update(id, patch);
    if (!row) throw deviceNotFound(id);
    // On every hub process: a disabled device's sessions end, and an enabled one may connect at once.
    if (patch.disabled !== undefined) await this.access.changed(id, patch.disabled ? 'not_authorized' : undefined);
    return presentDevice(row);
  }

  /** Deleting removes the device's tokens with it; telemetry stays unless `purgeTelemetry`. */
  async delete(id: string, purgeTelemetry: boolean): Promise<void> {
    if (!(await this.devices.delete(id))) throw deviceNotFound(id);
    await this.access.changed(id, 'not_authorized');
    if (purgeTelemetry) await this.telemetry.deleteForDevice(id);
  }

  async assertExists(id: string): Promise<void> {
    if (!(await this.devices.findById(id))) throw deviceNotFound(id);
  }
}

export function deviceNotFound(id: string): ApiError {
  return ApiError.notFound('device_not_found', `no device with id ${id}`);
}
