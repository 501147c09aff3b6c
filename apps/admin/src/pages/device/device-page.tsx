import type { DeviceDetail } from '@telehub/contracts';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError, errorMessage } from '../../api/api-client.js';
import { CopyButton } from '../../components/copy-button.js';
import { Dialog } from '../../components/dialog.js';
import { formatSpan, humanize } from '../../components/event-text.js';
import { BackIcon, EditIcon, TrashIcon } from '../../components/icons.js';
import { Labels } from '../../components/labels.js';
import { RelativeTime } from '../../components/relative-time.js';
import { StatusDot } from '../../components/status-dot.js';
import { notify } from '../../components/toasts.js';
import { DeviceTelemetry } from '../../state/device-telemetry.js';
import { useHub } from '../../state/hub-context.js';
import { useCan } from '../../state/permissions.js';
import { withPresence } from '../../state/presence-cache.js';
import { href, navigate } from '../../state/router.js';
import { useStore } from '../../state/store.js';
import { DEFAULT_RANGE, type TimeRange } from '../../state/time-ranges.js';
import { CommandsPanel } from './commands-panel.js';
import { ConnectionPanel } from './connection-panel.js';
import { DetailsPanel } from './details-panel.js';
import { EditDeviceDialog } from './edit-device-dialog.js';
import { EventsPanel } from './events-panel.js';
import { MetricsPanel } from './metrics-panel.js';
import { StatePanel } from './state-panel.js';
import { TokensPanel } from './tokens-panel.js';

type Load =
  | { kind: 'loading' }
  | { kind: 'missing' }
  | { kind: 'error'; message: string }
  | { kind: 'ready'; device: DeviceDetail };

export function DevicePage({ id }: { id: string }) {
  const { api, socket, directory, presence } = useHub();
  const connections = useStore(socket.connections);
  const presenceChange = useStore(presence.latest).get(id);
  const [load, setLoad] = useState<Load>({ kind: 'loading' });
  const [range, setRange] = useState<TimeRange>(DEFAULT_RANGE);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [editing, setEditing] = useState(false);
  const admin = useCan('admin');
  const telemetry = useMemo(() => new DeviceTelemetry(socket, id, DEFAULT_RANGE), [socket, id]);
  useEffect(() => () => telemetry.dispose(), [telemetry]);
  useEffect(() => telemetry.setRange(range), [telemetry, range]);

  // The device's REST detail, again after every reconnect (presence and state may have moved meanwhile).
  useEffect(() => {
    let cancelled = false;
    api
      .getDevice(id)
      .then((device) => {
        if (cancelled) return;
        directory.remember([device]);
        telemetry.seedLatest(device.latest);
        setLoad({ kind: 'ready', device });
      })
      .catch((failure) => {
        if (cancelled) return;
        if (failure instanceof ApiError && (failure.status === 404 || failure.status === 400))
          setLoad({ kind: 'missing' });
        else
          setLoad((current) =>
            current.kind === 'ready' ? current : { kind: 'error', message: errorMessage(failure) },
          );
      });
    return () => {
      cancelled = true;
    };
  }, [api, id, connections, telemetry, directory]);

  // Reported state, live (presence comes from the session's presence cache).
  useEffect(
    () =>
      socket.on('state', (message) => {
        if (message.deviceId !== id) return;
        const stateUpdatedAt = new Date(message.updatedAt).toISOString();
        setLoad((current) =>
          current.kind === 'ready'
            ? { kind: 'ready', device: { ...current.device, state: message.state, stateUpdatedAt } }
            : current,
        );
      }),
    [socket, id],
  );

  if (load.kind === 'loading') return <div class="page-loading">Loading device…</div>;
  if (load.kind === 'missing') {
    return (
      <div class="empty-state">
        <h3>Device not found</h3>
        <p>It may have been deleted. </p>
        <a class="button" href={href({ page: 'devices' })}>
          All devices
        </a>
      </div>
    );
  }
  if (load.kind === 'error') return <div class="callout callout-danger">{load.message}</div>;

  const device = withPresence(load.device, presenceChange);
  const setDisabled = async (disabled: boolean) => {
    try {
      const updated = await api.updateDevice(device.id, { disabled });
      setLoad({ kind: 'ready', device: { ...device, ...updated } });
      notify(disabled ? `${device.name} is disabled; its session was ended.` : `${device.name} is enabled again.`);
    } catch (failure) {
      notify(errorMessage(failure), 'error');
    }
  };
  const remove = async () => {
    try {
      await api.deleteDevice(device.id);
      notify(`${device.name} was deleted.`);
      navigate({ page: 'devices' });
    } catch (failure) {
      notify(errorMessage(failure), 'error');
    }
  };

  return (
    <>
      <a class="back-link" href={href({ page: 'devices' })}>
        <BackIcon size={14} /> Devices
      </a>
      <header class="page-header device-header">
        <div>
          <h1 class="device-title">
            <StatusDot status={device.status} disabled={device.disabled} />
            <span data-testid="device-name">{device.name}</span>
          </h1>
          <p
            class="page-subtitle device-presence"
            data-testid="device-presence"
            data-online={String(device.online)}
            data-status={device.status}
          >
            <Presence device={device} />
          </p>
          <div class="device-meta">
            <span class="mono device-id-full">{device.id}</span>
            <CopyButton text={device.id} compact label="Copy device id" />
            <Labels labels={device.labels} />
          </div>
        </div>
        {admin ? (
          <div class="page-actions">
            <button type="button" class="button" onClick={() => setEditing(true)}>
              <EditIcon size={14} /> Edit
            </button>
            <button type="button" class="button" onClick={() => void setDisabled(!device.disabled)}>
              {device.disabled ? 'Enable' : 'Disable'}
            </button>
            <button type="button" class="button button-danger-ghost" onClick={() => setConfirmDelete(true)}>
              <TrashIcon size={14} /> Delete
            </button>
          </div>
        ) : null}
      </header>

      <MetricsPanel telemetry={telemetry} range={range} onRange={setRange} />

      <div class="grid grid-device">
        <div class="column">
          <CommandsPanel deviceId={device.id} online={device.online} />
          <EventsPanel deviceId={device.id} />
        </div>
        <div class="column">
          <ConnectionPanel device={device} />
          <DetailsPanel device={device} />
          <StatePanel
            state={device.state}
            updatedAt={device.stateUpdatedAt ? Date.parse(device.stateUpdatedAt) : null}
          />
          <TokensPanel deviceId={device.id} />
        </div>
      </div>

      {editing ? (
        <EditDeviceDialog
          device={device}
          onClose={() => setEditing(false)}
          onSaved={(updated) => {
            setEditing(false);
            directory.remember([updated]);
            setLoad({ kind: 'ready', device: { ...device, ...updated } });
            notify(`${updated.name} was saved.`);
          }}
        />
      ) : null}

      {confirmDelete ? (
        <Dialog title={`Delete ${device.name}?`} onClose={() => setConfirmDelete(false)}>
          <p>
            Its tokens are revoked and its session ends. Its telemetry stays in the database (the API can purge it with{' '}
            <code>?purgeTelemetry=true</code>).
          </p>
          <footer class="dialog-footer">
            <button type="button" class="button" onClick={() => setConfirmDelete(false)}>
              Cancel
            </button>
            <button type="button" class="button button-danger" onClick={() => void remove()}>
              Delete device
            </button>
          </footer>
        </Dialog>
      ) : null}
    </>
  );
}

function Presence({ device }: { device: DeviceDetail }) {
  if (device.disabled) return <span>Disabled: its tokens are refused</span>;
  const timeout =
    device.inactivityTimeoutSeconds === null
      ? 'its inactivity timeout'
      : `its ${formatSpan(device.inactivityTimeoutSeconds * 1000)} inactivity timeout`;
  switch (device.status) {
    case 'connected':
      return (
        <span>
          <span class="online-text">Connected</span>
          {device.transport ? ` over ${device.transport}` : ''}
          {device.connectedAt ? (
            <>
              {' '}
              · since <RelativeTime time={device.connectedAt} />
            </>
          ) : null}
        </span>
      );
    case 'active':
      return (
        <span>
          <span class="online-text">Active</span> · last seen <RelativeTime time={device.lastSeenAt} fallback="never" />
          , within {timeout}; no connection open
        </span>
      );
    case 'offline':
      return (
        <span>
          Offline · last seen <RelativeTime time={device.lastSeenAt} fallback="never" />
          {device.disconnectReason ? ` · ${humanize(device.disconnectReason).toLowerCase()}` : ''}
        </span>
      );
  }
}
