import { StateIcon } from '../../components/icons.js';
import { RelativeTime } from '../../components/relative-time.js';

function show(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The device's reported state (merged from what it publishes on devices/{id}/state). */
export function StatePanel({ state, updatedAt }: { state: Record<string, unknown>; updatedAt: number | null }) {
  const entries = Object.entries(state).sort(([a], [b]) => a.localeCompare(b));
  return (
    <section class="card">
      <header class="card-header">
        <div>
          <h2>
            <StateIcon size={16} /> Reported state
          </h2>
          <p class="card-subtitle">
            {updatedAt ? (
              <>
                Updated <RelativeTime time={updatedAt} />
              </>
            ) : (
              'What the device reports on devices/{id}/state'
            )}
          </p>
        </div>
      </header>
      {entries.length === 0 ? (
        <p class="empty-note">Nothing reported yet.</p>
      ) : (
        <dl class="kv" data-testid="device-state">
          {entries.map(([key, value]) => (
            <div key={key}>
              <dt>{key}</dt>
              <dd class="mono">{show(value)}</dd>
            </div>
          ))}
        </dl>
      )}
    </section>
  );
}
