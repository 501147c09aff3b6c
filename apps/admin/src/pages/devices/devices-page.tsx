import type { DeviceSort, DeviceTotals } from '@telehub/contracts';
import { useEffect, useRef, useState } from 'preact/hooks';
import { DevicesIcon, PlusIcon, SearchIcon, UploadIcon } from '../../components/icons.js';
import { useCan } from '../../state/permissions.js';
import { navigate } from '../../state/router.js';
import { BulkImportDialog } from './bulk-import-dialog.js';
import { CreateDeviceDialog } from './create-device-dialog.js';
import { DeviceTable } from './device-table.js';
import { LabelFilter } from './label-filter.js';
import { DEFAULT_VIEW, useListView } from './list-view.js';
import { StatusFilter } from './status-filter.js';
import { useDeviceList } from './use-device-list.js';

/** Typing in the search box asks the hub after this pause. */
const SEARCH_DEBOUNCE_MS = 250;

const SORTS: [DeviceSort, string][] = [
  ['name', 'Name, A to Z'],
  ['-name', 'Name, Z to A'],
  ['-lastSeen', 'Last seen, most recent first'],
  ['lastSeen', 'Last seen, longest ago first'],
  ['-created', 'Newest first'],
  ['created', 'Oldest first'],
];

export function DevicesPage() {
  const [view, setView] = useListView();
  const [search, setSearch] = useState(view.search);
  const [dialog, setDialog] = useState<'create' | 'import' | null>(null);
  const list = useDeviceList(view);
  // Provisioning is the admin role's; the others see the list only.
  const admin = useCan('admin');

  // Only what is typed goes to the view, a pause after the last key: a search that came through the address
  // (a link, back and forward, a reload) is not written back over a newer address.
  const typing = useRef(false);
  useEffect(() => {
    if (!typing.current) return;
    const timer = setTimeout(() => {
      typing.current = false;
      setView({ search: search.trim() });
    }, SEARCH_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [search, setView]);
  // …and such a search shows in the box.
  useEffect(() => {
    if (!typing.current) setSearch(view.search);
  }, [view.search]);

  const addLabel = (label: string) =>
    setView({ labels: view.labels.includes(label) ? view.labels : [...view.labels, label] });
  const knownLabels = [...new Set(list.items.flatMap((device) => device.labels))].sort();
  const filtered = view.search !== '' || view.labels.length > 0 || view.status !== 'all';

  return (
    <>
      <header class="page-header">
        <div>
          <h1>Devices</h1>
          <p class="page-subtitle" data-testid="device-totals">
            {list.totals ? summary(list.totals, filtered, view.status === 'all') : 'Loading…'}
          </p>
        </div>
        {admin ? (
          <div class="page-actions">
            <button type="button" class="button" onClick={() => setDialog('import')}>
              <UploadIcon /> Import CSV
            </button>
            <button type="button" class="button button-primary" onClick={() => setDialog('create')}>
              <PlusIcon /> New device
            </button>
          </div>
        ) : null}
      </header>

      <div class="toolbar">
        <label class="search">
          <SearchIcon />
          <input
            class="input"
            type="search"
            placeholder="Search name or id…"
            aria-label="Search devices by name or id"
            value={search}
            onInput={(event) => {
              typing.current = true;
              setSearch(event.currentTarget.value);
            }}
          />
        </label>
        <LabelFilter
          selected={view.labels}
          suggestions={knownLabels}
          onAdd={addLabel}
          onRemove={(label) => setView({ labels: view.labels.filter((item) => item !== label) })}
        />
        <div class="toolbar-end">
          <select
            class="input input-small sort-select"
            aria-label="Sort devices"
            value={view.sort}
            onChange={(event) => setView({ sort: event.currentTarget.value as DeviceSort })}
          >
            {SORTS.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </div>
      </div>

      {list.error ? (
        <div class="callout callout-danger" role="alert">
          {list.error}{' '}
          <button type="button" class="button button-small" onClick={() => void list.reload()}>
            Try again
          </button>
        </div>
      ) : null}

      <section class="card card-flush">
        <div class="card-toolbar">
          <StatusFilter value={view.status} totals={list.totals} onChange={(status) => setView({ status })} />
          {list.totals && list.items.length > 0 ? (
            <span class="muted table-count">
              {list.items.length < list.totals.matching
                ? `${list.items.length.toLocaleString()} of ${list.totals.matching.toLocaleString()} shown`
                : `${list.totals.matching.toLocaleString()} shown`}
            </span>
          ) : null}
        </div>
        {list.items.length === 0 && !list.loading ? (
          <EmptyDevices
            filtered={filtered}
            onClear={() => {
              setSearch('');
              setView({ ...DEFAULT_VIEW, sort: view.sort });
            }}
            onCreate={admin ? () => setDialog('create') : undefined}
          />
        ) : (
          <DeviceTable devices={list.items} latest={list.latest} onLabel={addLabel} />
        )}
        {list.hasMore ? (
          <div class="table-footer">
            <button type="button" class="button" disabled={list.loading} onClick={() => void list.loadMore()}>
              {list.loading ? 'Loading…' : 'Load more'}
            </button>
          </div>
        ) : null}
      </section>

      {dialog === 'create' ? (
        <CreateDeviceDialog
          onClose={() => setDialog(null)}
          onCreated={(device) => list.prepend([device])}
          onOpen={(id) => {
            setDialog(null);
            navigate({ page: 'device', id });
          }}
        />
      ) : null}
      {dialog === 'import' ? (
        <BulkImportDialog onClose={() => setDialog(null)} onImported={() => void list.reload()} />
      ) : null}
    </>
  );
}

/**
 * "1,204 devices · 812 online (700 connected, 112 active)", counted by the hub over every matching device, not
 * only the rows loaded.
 */
function summary(totals: DeviceTotals, filtered: boolean, allStatuses: boolean): string {
  const count = (value: number) => value.toLocaleString();
  const devices = `${count(totals.matching)} ${totals.matching === 1 ? 'device' : 'devices'}${filtered ? ' match' : ''}`;
  if (!allStatuses) return devices;
  const online = totals.connected + totals.active;
  const split = totals.active > 0 ? ` (${count(totals.connected)} connected, ${count(totals.active)} active)` : '';
  return `${devices} · ${count(online)} online${split}`;
}

function EmptyDevices({
  filtered,
  onClear,
  onCreate,
}: {
  filtered: boolean;
  onClear: () => void;
  onCreate: (() => void) | undefined;
}) {
  return (
    <div class="empty-state">
      <div class="empty-icon">
        <DevicesIcon size={22} />
      </div>
      {filtered ? (
        <>
          <h3>No devices match</h3>
          <p>Try another search, status or label.</p>
          <button type="button" class="button" onClick={onClear}>
            Clear filters
          </button>
        </>
      ) : (
        <>
          <h3>No devices yet</h3>
          {onCreate ? (
            <>
              <p>Create a device to get its token and a ready-to-paste snippet that sends telemetry.</p>
              <button type="button" class="button button-primary" onClick={onCreate}>
                <PlusIcon /> New device
              </button>
            </>
          ) : (
            <p>Devices appear here once an admin creates them.</p>
          )}
        </>
      )}
    </div>
  );
}
