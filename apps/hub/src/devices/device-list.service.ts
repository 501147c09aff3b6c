import { Injectable } from '@nestjs/common';
import type { DeviceListItem, DevicePage, DeviceStatus, ListDevicesQuery } from '@telehub/contracts';
import { type DeviceListFilter, DeviceListRepository, type DeviceStatusCounts, type LatestOfDevice } from '@telehub/db';
import { ApiError } from '../common/api-error.js';
import { FleetSummaryService } from '../fleet/fleet-summary.service.js';
import { SharedCount } from '../fleet/shared-count.js';
import { presentDevice, presentLatest } from './device.presenter.js';
import { decodeDeviceCursor, deviceOrder, encodeDeviceCursor } from './device-list-cursor.js';

/**
 * The device list for a fleet: one request gives a dashboard page (filters, sort, the page's latest values,
 * and totals per status over everything that matches).
 */
/** A filter's totals are recounted once they are this old, behind an answer with the last count... */
const FILTER_COUNTS_MAX_AGE_MS = 1000;
/** ...which is answered while it is at most this old (the filter was asked for recently); older, a page waits. */
const FILTER_COUNTS_SERVE_STALE_MS = 5000;
/** Filters whose last totals are kept; beyond this the least recently asked for is forgotten. */
const FILTER_COUNTS_KEPT = 256;

@Injectable()
export class DeviceListService {
  /**
   * Totals per filter, shared by the pages asked for with it: a search matching most of the fleet counts every
   * matching device (100,000 rows: about 90 ms), and paging through it, or a dashboard refreshing it, would pay
   * that per page. As for the unfiltered totals (the fleet's counts), a page answers with the filter's last count,
   * begun at most about a second earlier while the filter is in use, and a new count starts behind it.
   */
  private readonly filterCounts = new Map<string, SharedCount<DeviceStatusCounts>>();

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
    if (!unfiltered(filter)) return this.filterCount(filter).recent();
    const fleet = await this.fleet.recentCounts();
    return { connected: fleet.online, active: fleet.active, offline: fleet.devices - fleet.online - fleet.active };
  }

  private filterCount(filter: DeviceListFilter): SharedCount<DeviceStatusCounts> {
    const key = filterKey(filter);
    let count = this.filterCounts.get(key);
    if (count) {
      // Most recently asked for last: the first in the map is the one forgotten when it is full.
      this.filterCounts.delete(key);
    } else {
      const counted = { labels: filter.labels, namePrefix: filter.namePrefix, search: filter.search, statuses: [] };
      count = new SharedCount(() => this.list.countByStatus(counted), {
        maxAgeMs: FILTER_COUNTS_MAX_AGE_MS,
        staleMs: FILTER_COUNTS_SERVE_STALE_MS,
      });
      if (this.filterCounts.size >= FILTER_COUNTS_KEPT) {
        const oldest = this.filterCounts.keys().next().value;
        if (oldest !== undefined) this.filterCounts.delete(oldest);
      }
    }
    this.filterCounts.set(key, count);
    return count;
  }
}

/** The per-status counts ignore the status filter: one shared count per labels, name prefix and search. */
function filterKey(filter: DeviceListFilter): string {
  return JSON.stringify([[...filter.labels].sort(), filter.namePrefix ?? null, filter.search ?? null]);
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
