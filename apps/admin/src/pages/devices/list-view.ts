import { DEVICE_SORTS, type DeviceSort, type DeviceStatus } from '@telehub/contracts';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { parseRoute } from '../../state/router.js';

/** The status choices the list offers; `online` is connected or active, as the dot shows. */
export const STATUS_VIEWS = ['all', 'online', 'connected', 'active', 'offline'] as const;
export type StatusView = (typeof STATUS_VIEWS)[number];

export const STATUSES_OF: Record<StatusView, DeviceStatus[]> = {
  all: [],
  online: ['connected', 'active'],
  connected: ['connected'],
  active: ['active'],
  offline: ['offline'],
};

/** What the device list shows; kept in the address (`#/devices?q=…&status=…&label=…&sort=…`). */
export interface ListView {
  search: string;
  status: StatusView;
  labels: string[];
  sort: DeviceSort;
}

export const DEFAULT_VIEW: ListView = { search: '', status: 'all', labels: [], sort: 'name' };

export function parseView(hash: string): ListView {
  const query = new URLSearchParams(hash.includes('?') ? hash.slice(hash.indexOf('?') + 1) : '');
  const status = query.get('status');
  const sort = query.get('sort');
  return {
    search: query.get('q') ?? '',
    status: STATUS_VIEWS.includes(status as StatusView) ? (status as StatusView) : DEFAULT_VIEW.status,
    labels: [...new Set(query.getAll('label').filter(Boolean))],
    sort: DEVICE_SORTS.includes(sort as DeviceSort) ? (sort as DeviceSort) : DEFAULT_VIEW.sort,
  };
}

/** `#/devices` with what differs from the defaults, so a plain list keeps a plain address. */
export function viewHash(view: ListView): string {
  const query = new URLSearchParams();
  if (view.search) query.set('q', view.search);
  if (view.status !== DEFAULT_VIEW.status) query.set('status', view.status);
  for (const label of view.labels) query.append('label', label);
  if (view.sort !== DEFAULT_VIEW.sort) query.set('sort', view.sort);
  const text = query.toString();
  return text ? `#/devices?${text}` : '#/devices';
}

/**
 * The list's view after `change`, and the address to write for it (null when it is already there); null
 * altogether when the address no longer shows the list. A change that lands after the user has moved on (a
 * debounced search firing while the next page's `hashchange` is still queued) must not put `#/devices` back
 * under another page: the Devices link would then no longer navigate.
 */
export function viewChange(
  currentHash: string,
  change: Partial<ListView>,
): { view: ListView; address: string | null } | null {
  if (parseRoute(currentHash).page !== 'devices') return null;
  const view = { ...parseView(currentHash), ...change };
  const address = viewHash(view);
  return { view, address: address === currentHash ? null : address };
}

/**
 * The list's view, read from the address and written back to it as it changes (replacing the entry, so typing
 * in the search box does not fill the history), so a filtered list can be reloaded, bookmarked and shared.
 */
export function useListView(): [ListView, (change: Partial<ListView>) => void] {
  const [view, setView] = useState(() => parseView(location.hash));
  useEffect(() => {
    const onChange = () => setView(parseView(location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  const update = useCallback((change: Partial<ListView>) => {
    const next = viewChange(location.hash, change);
    if (!next) return;
    if (next.address !== null) history.replaceState(history.state, '', next.address);
    setView(next.view);
  }, []);
  return [view, update];
}
