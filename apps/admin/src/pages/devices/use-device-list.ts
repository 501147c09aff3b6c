import type { Device, DeviceListItem, DeviceTotals } from '@telehub/contracts';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { errorMessage } from '../../api/api-client.js';
import type { LatestValue } from '../../state/device-telemetry.js';
import { useHub } from '../../state/hub-context.js';
import { withPresence } from '../../state/presence-cache.js';
import { useStore } from '../../state/store.js';
import { type ListView, STATUSES_OF } from './list-view.js';

/** Devices per page of the list. */
export const DEVICE_PAGE_SIZE = 50;
/** Latest values in the list move at most this often per second. */
const LIST_LIVE_RATE = 2;
/** The totals are asked for again this often (devices come and go; rows move live by themselves). */
const TOTALS_REFRESH_MS = 10_000;

export type LatestByDevice = Readonly<Record<string, Readonly<Record<string, LatestValue>>>>;

function latestOf(items: DeviceListItem[]): Record<string, Record<string, LatestValue>> {
  const byDevice: Record<string, Record<string, LatestValue>> = {};
  for (const item of items) {
    const values: Record<string, LatestValue> = {};
    for (const [metric, latest] of Object.entries(item.latest ?? {})) {
      values[metric] = { value: latest.value, time: Date.parse(latest.time) };
    }
    byDevice[item.id] = values;
  }
  return byDevice;
}

/**
 * The devices list: pages from the REST API (filters, sort, totals and latest values in one request per page),
 * kept current by the admin channel (presence and activity move the status dot, live points move the latest
 * values), and loaded again after a reconnect.
 */
export function useDeviceList(view: ListView) {
  const { api, socket, directory, presence } = useHub();
  const connections = useStore(socket.connections);
  const presenceChanges = useStore(presence.latest);
  const [items, setItems] = useState<Device[]>([]);
  const [totals, setTotals] = useState<DeviceTotals | null>(null);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [latest, setLatest] = useState<LatestByDevice>({});
  const generation = useRef(0);
  const query = {
    search: view.search || undefined,
    statuses: STATUSES_OF[view.status],
    labels: view.labels,
    sort: view.sort,
  };
  const queryKey = JSON.stringify(query);

  const load = useCallback(
    async (cursor?: string) => {
      const current = ++generation.current;
      setLoading(true);
      try {
        const page = await api.listDevices({ ...query, limit: DEVICE_PAGE_SIZE, cursor, latest: true });
        if (current !== generation.current) return;
        directory.remember(page.items);
        const values = latestOf(page.items);
        const devices = page.items.map(({ latest: _latest, ...device }) => device);
        setItems((previous) => (cursor ? [...previous, ...devices] : devices));
        setLatest((previous) => (cursor ? { ...previous, ...values } : values));
        setTotals(page.totals);
        setNextCursor(page.nextCursor);
        setError(null);
      } catch (failure) {
        if (current === generation.current) setError(errorMessage(failure));
      } finally {
        if (current === generation.current) setLoading(false);
      }
    },
    // The query is compared by value (queryKey), not by object identity.
    [api, directory, queryKey],
  );

  // The first page again whenever the view changes or the channel reconnects (things changed meanwhile).
  useEffect(() => {
    void load();
  }, [load, connections]);

  // The totals, every few seconds: one device of the same query carries them.
  useEffect(() => {
    const timer = setInterval(() => {
      api
        .listDevices({ ...query, limit: 1 })
        .then((page) => setTotals(page.totals))
        .catch(() => undefined);
    }, TOTALS_REFRESH_MS);
    return () => clearInterval(timer);
  }, [api, queryKey]);

  // Live points for the devices shown. Keyed by the ids (a string), so presence updates do not start it over.
  const ids = items.map((device) => device.id).join(',');
  useEffect(() => {
    const wanted = ids ? ids.split(',') : [];
    if (wanted.length === 0) return;
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
    return () => subscription.close();
  }, [ids, socket]);

  const prepend = useCallback(
    (devices: Device[]) => {
      directory.remember(devices);
      setItems((list) => [...devices, ...list.filter((item) => !devices.some((device) => device.id === item.id))]);
      setTotals((current) =>
        current
          ? { ...current, matching: current.matching + devices.length, offline: current.offline + devices.length }
          : current,
      );
    },
    [directory],
  );

  return {
    // Presence and activity move the status dot without a reload.
    items: items.map((device) => withPresence(device, presenceChanges.get(device.id))),
    totals,
    latest,
    loading,
    error,
    hasMore: nextCursor !== null,
    loadMore: () => (nextCursor ? load(nextCursor) : Promise.resolve()),
    reload: () => load(),
    prepend,
  };
}
