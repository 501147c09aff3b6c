import type { Device } from '@telehub/contracts';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { errorMessage } from '../../api/api-client.js';
import type { LatestValue } from '../../state/device-telemetry.js';
import { useHub } from '../../state/hub-context.js';
import { withPresence } from '../../state/presence-cache.js';
import { useStore } from '../../state/store.js';

/** Devices per page of the list. */
export const DEVICE_PAGE_SIZE = 50;
/** Requests for the latest values of listed devices run this many at a time. */
const DETAIL_CONCURRENCY = 4;
/** Latest values in the list move at most this often per second. */
const LIST_LIVE_RATE = 2;

export interface DeviceFilter {
  namePrefix: string;
  labels: string[];
}

export type LatestByDevice = Readonly<Record<string, Readonly<Record<string, LatestValue>>>>;

/**
 * The devices list: pages from the REST API, kept current by the admin channel (presence moves the online
 * dot, live points move the latest values), and loaded again after a reconnect.
 */
export function useDeviceList(filter: DeviceFilter) {
  const { api, socket, directory, presence } = useHub();
  const connections = useStore(socket.connections);
  const presenceChanges = useStore(presence.latest);
  const [items, setItems] = useState<Device[]>([]);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [latest, setLatest] = useState<LatestByDevice>({});
  const generation = useRef(0);
  /** Devices whose detail (latest values) was fetched since the first page was last loaded. */
  const fetched = useRef(new Set<string>());
  const filterKey = JSON.stringify(filter);

  const load = useCallback(
    async (cursor?: string) => {
      const current = ++generation.current;
      setLoading(true);
      try {
        const page = await api.listDevices({
          limit: DEVICE_PAGE_SIZE,
          cursor,
          namePrefix: filter.namePrefix || undefined,
          labels: filter.labels,
        });
        if (current !== generation.current) return;
        directory.remember(page.items);
        if (!cursor) fetched.current.clear();
        setItems((previous) => (cursor ? [...previous, ...page.items] : page.items));
        setNextCursor(page.nextCursor);
        setError(null);
      } catch (failure) {
        if (current === generation.current) setError(errorMessage(failure));
      } finally {
        if (current === generation.current) setLoading(false);
      }
    },
    // The filter is compared by value (filterKey), not by object identity.
    [api, directory, filterKey],
  );

  // The first page again whenever the filter changes or the channel reconnects (things changed meanwhile).
  useEffect(() => {
    void load();
  }, [load, connections]);

  // Latest values: once from each device's detail, then live.
  const ids = items.map((device) => device.id).join(',');
  // Keyed by the ids (a string), so presence updates to the same devices do not start it over.
  useEffect(() => {
    const wanted = ids ? ids.split(',') : [];
    if (wanted.length === 0) return;
    let cancelled = false;
    const queue = wanted.filter((id) => !fetched.current.has(id));
    for (const id of queue) fetched.current.add(id);
    const worker = async () => {
      for (let id = queue.shift(); id && !cancelled; id = queue.shift()) {
        try {
          const detail = await api.getDevice(id);
          const values: Record<string, LatestValue> = {};
          for (const [metric, item] of Object.entries(detail.latest)) {
            values[metric] = { value: item.value, time: Date.parse(item.time) };
          }
          if (!cancelled) setLatest((all) => ({ ...all, [id]: { ...values, ...all[id] } }));
        } catch {
          // a device deleted meanwhile: no values
        }
      }
    };
    for (let i = 0; i < DETAIL_CONCURRENCY; i++) void worker();
    const subscription = socket.subscribe(
      { devices: wanted, metrics: '*', events: false, maxRate: LIST_LIVE_RATE },
      {
        onSnapshot: () => undefined,
        onPoints: (message) =>
          setLatest((all) => {
            const next = { ...all };
            for (const series of message.series) {
              const last = series.times.length - 1;
              if (last < 0) continue;
              next[series.deviceId] = {
                ...next[series.deviceId],
                [series.metric]: { value: series.values[last]!, time: series.times[last]! },
              };
            }
            return next;
          }),
      },
    );
    return () => {
      cancelled = true;
      subscription.close();
    };
  }, [ids, api, socket]);

  const prepend = useCallback(
    (devices: Device[]) => {
      directory.remember(devices);
      setItems((list) => [...devices, ...list.filter((item) => !devices.some((device) => device.id === item.id))]);
    },
    [directory],
  );

  return {
    // Presence moves the online dot without a reload.
    items: items.map((device) => withPresence(device, presenceChanges.get(device.id))),
    latest,
    loading,
    error,
    hasMore: nextCursor !== null,
    loadMore: () => (nextCursor ? load(nextCursor) : Promise.resolve()),
    reload: () => load(),
    prepend,
  };
}
