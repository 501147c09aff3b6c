import type { DeviceTotals } from '@telehub/contracts';
import { STATUS_VIEWS, type StatusView } from './list-view.js';

const LABELS: Record<StatusView, string> = {
  all: 'All',
  online: 'Online',
  connected: 'Connected',
  active: 'Active',
  offline: 'Offline',
};

const TITLES: Record<StatusView, string> = {
  all: 'Every device',
  online: 'Connected or active',
  connected: 'A connection is open now',
  active: 'Heard from within its inactivity timeout, no connection open (HTTP, a device that connects per message)',
  offline: 'Not heard from within its inactivity timeout',
};

/** Counts per status choice, from the hub's totals (which ignore the status filter itself). */
function countOf(view: StatusView, totals: DeviceTotals): number {
  switch (view) {
    case 'all':
      return totals.connected + totals.active + totals.offline;
    case 'online':
      return totals.connected + totals.active;
    default:
      return totals[view];
  }
}

export function StatusFilter({
  value,
  totals,
  onChange,
}: {
  value: StatusView;
  totals: DeviceTotals | null;
  onChange: (view: StatusView) => void;
}) {
  return (
    <div class="segmented status-filter" role="tablist" aria-label="Filter by status">
      {STATUS_VIEWS.map((view) => (
        <button
          key={view}
          type="button"
          role="tab"
          aria-selected={view === value}
          class={view === value ? 'active' : ''}
          data-status={view}
          title={TITLES[view]}
          onClick={() => onChange(view)}
        >
          {view === 'online' ? <span class="status-dot status-dot-active" aria-hidden="true" /> : null}
          {LABELS[view]}
          {totals ? <span class="count">{countOf(view, totals).toLocaleString()}</span> : null}
        </button>
      ))}
    </div>
  );
}
