import { Injectable } from '@nestjs/common';
import type { DeviceListItem, DevicePage, DeviceStatus, ListDevicesQuery } from '@telehub/contracts';
import { type DeviceListFilter, DeviceListRepository, type DeviceStatusCounts, type LatestOfDevice } from '@telehub/db';
import { ApiError } from '../common/api-error.js';
import { FleetSummaryService } from '../fleet/fleet-summary.service.js';
import { presentDevice, presentLatest } from './device.presenter.js';
import { decodeDeviceCursor, deviceOrder, encodeDeviceCursor } from './device-list-cursor.js';

/**
 * The device list for a fleet: one request gives a dashboard page (filters, sort, the page's latest values,
 * and totals per status over everything that matches).
 */
@Injectable()
export class DeviceListService {
  constructor(
    private readonly list: DeviceListRepository,
    private readonly fleet: FleetSummaryService,
  ) {}

  async page(query: ListDevicesQuery): Promise<DevicePage> {
    const order = deviceOrder(query.sort);
    const after = query.cursor === undefined ? undefined : decodeDeviceCursor(query.sort, query.cursor);
    if (query.cursor !== undefined && after === undefined) {
      throw ApiError.validation([
        { field: 'cursor', message: `not a nextCursor of a page sorted by ${query.sort}: pass it unchanged` },
      ]);
    }
    const filter = {
      labels: query.label,
      namePrefix: query.namePrefix,
      search: query.search,
      statuses: query.status,
    };
    // The page and the totals are independent reads: two pool connections, one round trip of waiting.
    const [page, counts] = await Promise.all([
      this.list.list({ ...filter, sort: order.key, descending: order.descending, limit: query.limit, after }),
      this.totals(filter),
    ]);
    const latest = query.latest ? groupByDevice(await this.list.latestOf(page.rows.map((row) => row.id))) : undefined;
    const items: DeviceListItem[] = page.rows.map((row) =>
      latest ? { ...presentDevice(row), latest: presentLatest(latest.get(row.id) ?? []) } : presentDevice(row),
    );
    const selected: readonly DeviceStatus[] =
      query.status.length > 0 ? query.status : ['connected', 'active', 'offline'];
    return {
      items,
      nextCursor: page.hasMore && page.last ? encodeDeviceCursor(query.sort, page.last) : null,
      totals: {
        matching: [...new Set(selected)].reduce((sum, status) => sum + counts[status], 0),
        ...counts,
      },
    };
  }

  private async totals(filter: DeviceListFilter): Promise<DeviceStatusCounts> {
    if (!unfiltered(filter)) return this.list.countByStatus(filter);
    const fleet = await this.fleet.recentCounts();
    return { connected: fleet.online, active: fleet.active, offline: fleet.devices - fleet.online - fleet.active };
  }
}

/**
 * Counted over every device: without filters (the status filter aside, which the per-status counts ignore)
 * these are the fleet's counts, which the overview also shows, as last counted (about a second old): a page
 * does not wait for a count of the whole fleet.
 */
function unfiltered(filter: { labels: string[]; namePrefix?: string; search?: string }): boolean {
  return filter.labels.length === 0 && !filter.namePrefix && !filter.search;
}

function groupByDevice(values: LatestOfDevice[]): Map<string, LatestOfDevice[]> {
  const byDevice = new Map<string, LatestOfDevice[]>();
  for (const value of values) {
    const list = byDevice.get(value.deviceId);
    if (list) list.push(value);
    else byDevice.set(value.deviceId, [value]);
  }
  return byDevice;
}
