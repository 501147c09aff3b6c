import { type Command, type CommandStatus, isFinalCommandStatus } from '@telehub/contracts';
import { ClockTime } from '../../components/relative-time.js';

const HAPPY_PATH: CommandStatus[] = ['queued', 'sent', 'delivered', 'succeeded'];

const STATUS_TONE: Record<CommandStatus, string> = {
  queued: 'muted',
  sent: 'info',
  delivered: 'info',
  succeeded: 'ok',
  failed: 'danger',
  expired: 'warn',
  cancelled: 'muted',
};

export function StatusBadge({ status }: { status: CommandStatus }) {
  return (
    <span class={`badge badge-${STATUS_TONE[status]}`} data-status={status}>
      {isFinalCommandStatus(status) ? null : <span class="badge-pulse" aria-hidden="true" />}
      {status}
    </span>
  );
}

function offset(from: string, to: string): string {
  const ms = Date.parse(to) - Date.parse(from);
  if (!Number.isFinite(ms) || ms <= 0) return '';
  return ms < 1000 ? `+${ms} ms` : ms < 60_000 ? `+${(ms / 1000).toFixed(1)} s` : `+${Math.round(ms / 60_000)} min`;
}

/**
 * queued → sent → delivered → succeeded as steps, each with how long after creation it happened. A command
 * that ended otherwise (failed, expired, cancelled) shows that as its last step.
 */
export function CommandTimeline({ command }: { command: Command }) {
  const reached = new Map(command.transitions.map((transition) => [transition.status, transition.at]));
  const final = isFinalCommandStatus(command.status) ? command.status : undefined;
  const steps =
    final && final !== 'succeeded'
      ? [...HAPPY_PATH.slice(0, 3).filter((step) => reached.has(step)), final]
      : HAPPY_PATH;
  return (
    <ol class="timeline" aria-label="Status timeline">
      {steps.map((step) => {
        const at = reached.get(step) ?? (step === command.status ? (command.finishedAt ?? undefined) : undefined);
        const state = at ? 'done' : 'pending';
        return (
          <li
            key={step}
            class={`timeline-step step-${state} tone-${STATUS_TONE[step]}`}
            data-step={step}
            data-state={state}
          >
            <span class="timeline-dot" aria-hidden="true" />
            <span class="timeline-label">{step}</span>
            <span class="timeline-time" title={at ? new Date(at).toLocaleString() : undefined}>
              {at ? step === 'queued' ? <ClockTime time={at} /> : offset(command.createdAt, at) || '✓' : ''}
            </span>
          </li>
        );
      })}
    </ol>
  );
}
