import type { DeviceDetail } from '@telehub/contracts';
import { formatSpan } from '../../components/event-text.js';
import { InfoIcon } from '../../components/icons.js';
import { RelativeTime } from '../../components/relative-time.js';

function show(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** What an admin stored on the device (metadata) and its settings. */
export function DetailsPanel({ device }: { device: DeviceDetail }) {
  const entries = Object.entries(device.metadata).sort(([a], [b]) => a.localeCompare(b));
  return (
    <section class="card">
      <header class="card-header">
        <div>
          <h2>
            <InfoIcon size={16} /> Details
          </h2>
          <p class="card-subtitle">Metadata and settings, as provisioned</p>
        </div>
      </header>
      <div data-testid="device-details">
        <h3 class="kv-heading">Metadata</h3>
        {entries.length === 0 ? (
          <p class="empty-note">None. An admin adds it with Edit (JSON: firmware, site, owner…).</p>
        ) : (
          <dl class="kv">
            {entries.map(([key, value]) => (
              <div key={key} data-metadata-key={key}>
                <dt class="mono">{key}</dt>
                <dd class="mono">{show(value)}</dd>
              </div>
            ))}
          </dl>
        )}
        <h3 class="kv-heading">Settings</h3>
        <dl class="kv">
          <div>
            <dt>Inactivity timeout</dt>
            <dd data-testid="inactivity-timeout">
              {device.inactivityTimeoutSeconds === null
                ? "the hub's default"
                : formatSpan(device.inactivityTimeoutSeconds * 1000)}
            </dd>
          </div>
          <div>
            <dt>Created</dt>
            <dd>
              <RelativeTime time={device.createdAt} />
            </dd>
          </div>
        </dl>
      </div>
    </section>
  );
}
