import type { Device } from '@telehub/contracts';
import { useEffect, useState } from 'preact/hooks';
import { formatValue } from '../../charts/format.js';
import { DevicesIcon, PlusIcon, SearchIcon, UploadIcon } from '../../components/icons.js';
import { Labels } from '../../components/labels.js';
import { RelativeTime } from '../../components/relative-time.js';
import { StatusDot } from '../../components/status-dot.js';
import { useCan } from '../../state/permissions.js';
import { href, navigate } from '../../state/router.js';
import { BulkImportDialog } from './bulk-import-dialog.js';
import { CreateDeviceDialog } from './create-device-dialog.js';
import { LabelFilter } from './label-filter.js';
import { type LatestByDevice, useDeviceList } from './use-device-list.js';

/** Typing in the search box asks the hub after this pause. */
const SEARCH_DEBOUNCE_MS = 250;
/** Latest values shown per row; the device page has them all. */
const VALUES_PER_ROW = 3;

export function DevicesPage() {
  const [search, setSearch] = useState('');
  const [namePrefix, setNamePrefix] = useState('');
  const [labels, setLabels] = useState<string[]>([]);
  const [dialog, setDialog] = useState<'create' | 'import' | null>(null);
  const list = useDeviceList({ namePrefix, labels });
  // Provisioning is the admin role's; the others see the list only.
  const admin = useCan('admin');

  useEffect(() => {
    const timer = setTimeout(() => setNamePrefix(search.trim()), SEARCH_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [search]);

  const addLabel = (label: string) => setLabels((current) => (current.includes(label) ? current : [...current, label]));
  const knownLabels = [...new Set(list.items.flatMap((device) => device.labels))].sort();
  const online = list.items.filter((device) => device.online).length;
  const filtered = namePrefix !== '' || labels.length > 0;

  return (
    <>
      <header class="page-header">
        <div>
          <h1>Devices</h1>
          <p class="page-subtitle">
            {list.items.length === 0 && list.loading
              ? 'Loading…'
              : `${list.items.length.toLocaleString()}${list.hasMore ? '+' : ''} ${filtered ? 'matching' : 'devices'} · ${online} online`}
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
            placeholder="Search by name…"
            aria-label="Search devices by name"
            value={search}
            onInput={(event) => setSearch(event.currentTarget.value)}
          />
        </label>
        <LabelFilter
          selected={labels}
          suggestions={knownLabels}
          onAdd={addLabel}
          onRemove={(label) => setLabels((current) => current.filter((item) => item !== label))}
        />
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
        {list.items.length === 0 && !list.loading ? (
          <EmptyDevices filtered={filtered} onCreate={admin ? () => setDialog('create') : undefined} />
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

function DeviceTable({
  devices,
  latest,
  onLabel,
}: {
  devices: Device[];
  latest: LatestByDevice;
  onLabel: (label: string) => void;
}) {
  return (
    <table class="table device-table">
      <thead>
        <tr>
          <th>Device</th>
          <th class="hide-narrow">Labels</th>
          <th>Latest values</th>
          <th class="hide-narrow">Transport</th>
          <th class="align-right">Last seen</th>
        </tr>
      </thead>
      <tbody>
        {devices.map((device) => {
          const values = Object.entries(latest[device.id] ?? {}).sort(([a], [b]) => a.localeCompare(b));
          const newest = Math.max(0, ...values.map(([, item]) => item.time));
          const lastSeen = Math.max(device.lastSeenAt ? Date.parse(device.lastSeenAt) : 0, newest);
          const target = href({ page: 'device', id: device.id });
          return (
            <tr
              key={device.id}
              class="row-link"
              data-device-id={device.id}
              onClick={(event) => {
                if ((event.target as HTMLElement).closest('a, button')) return;
                location.hash = target;
              }}
            >
              <td>
                <div class="device-cell">
                  <StatusDot online={device.online} disabled={device.disabled} />
                  <div>
                    <a class="device-name" href={target}>
                      {device.name}
                    </a>
                    <div class="device-id mono">{device.id.slice(0, 8)}</div>
                  </div>
                </div>
              </td>
              <td class="hide-narrow">
                <Labels labels={device.labels} onPick={onLabel} max={4} />
              </td>
              <td>
                {values.length === 0 ? (
                  <span class="muted">–</span>
                ) : (
                  <span class="latest-values">
                    {values.slice(0, VALUES_PER_ROW).map(([metric, item]) => (
                      <span key={metric} class="latest-value">
                        <span class="latest-metric">{metric}</span> {formatValue(item.value)}
                      </span>
                    ))}
                    {values.length > VALUES_PER_ROW ? (
                      <span class="muted">+{values.length - VALUES_PER_ROW}</span>
                    ) : null}
                  </span>
                )}
              </td>
              <td class="hide-narrow">
                {device.transport ? <span class="badge">{device.transport}</span> : <span class="muted">–</span>}
              </td>
              <td class="align-right nowrap">
                {device.online ? (
                  <span class="online-text">online</span>
                ) : (
                  <RelativeTime time={lastSeen || null} fallback="never" />
                )}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function EmptyDevices({ filtered, onCreate }: { filtered: boolean; onCreate: (() => void) | undefined }) {
  return (
    <div class="empty-state">
      <div class="empty-icon">
        <DevicesIcon size={22} />
      </div>
      {filtered ? (
        <>
          <h3>No devices match</h3>
          <p>Try another name or remove a label filter.</p>
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
