import { COMMAND_LIMITS, type Command, isFinalCommandStatus } from '@telehub/contracts';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { errorMessage } from '../../api/api-client.js';
import { AlertIcon, SendIcon, TerminalIcon } from '../../components/icons.js';
import { notify } from '../../components/toasts.js';
import { applyStatus, newerCommand } from '../../state/command-updates.js';
import { useHub } from '../../state/hub-context.js';
import { useCan } from '../../state/permissions.js';
import { useStore } from '../../state/store.js';
import { CommandTimeline, StatusBadge } from './command-timeline.js';

/** Commands listed on the device page (newest first). */
const COMMANDS_SHOWN = 20;
/** A status for a command not in the list yet (sent from elsewhere) fetches the list after this pause. */
const REFETCH_DELAY_MS = 200;

/** Short results on one line, longer ones indented. */
function showJson(value: unknown): string {
  const compact = JSON.stringify(value);
  return compact.length <= 80 ? compact : JSON.stringify(value, null, 2);
}

export function CommandsPanel({ deviceId, online }: { deviceId: string; online: boolean }) {
  const { api, socket, identity } = useHub();
  // Sending and cancelling need the operator role; a viewer watches.
  const operator = useCan('operator');
  const connections = useStore(socket.connections);
  const [commands, setCommands] = useState<Command[]>([]);
  const [name, setName] = useState('');
  const [params, setParams] = useState('{}');
  const [ttl, setTtl] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const refetchTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const shown = useRef(commands);
  shown.current = commands;

  const merge = useCallback((incoming: Command[]) => {
    setCommands((current) => {
      const byId = new Map(current.map((command) => [command.id, command]));
      for (const command of incoming) {
        const existing = byId.get(command.id);
        byId.set(command.id, existing ? newerCommand(existing, command) : command);
      }
      return [...byId.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt)).slice(0, COMMANDS_SHOWN);
    });
  }, []);

  const refetch = useCallback(() => {
    api
      .listCommands(deviceId, COMMANDS_SHOWN)
      .then((page) => merge(page.items))
      .catch(() => undefined);
  }, [api, deviceId, merge]);

  // Again after a reconnect (`connections`): statuses may have moved unseen meanwhile.
  useEffect(() => {
    setCommands([]);
    refetch();
  }, [refetch, connections]);

  useEffect(
    () =>
      socket.on('command_status', (message) => {
        if (message.deviceId !== deviceId) return;
        if (!shown.current.some((command) => command.id === message.id)) {
          // Sent from elsewhere (another admin, the API), or its POST has not answered yet: fetch it.
          clearTimeout(refetchTimer.current);
          refetchTimer.current = setTimeout(refetch, REFETCH_DELAY_MS);
          return;
        }
        setCommands((current) =>
          current.map((command) => (command.id === message.id ? applyStatus(command, message) : command)),
        );
      }),
    [socket, deviceId, refetch],
  );
  useEffect(() => () => clearTimeout(refetchTimer.current), []);

  const submit = async (event: Event) => {
    event.preventDefault();
    let parsedParams: unknown;
    try {
      parsedParams = params.trim() ? JSON.parse(params) : {};
    } catch {
      setError('Parameters must be JSON, for example {"seconds": 5}.');
      return;
    }
    const ttlSeconds = ttl.trim() ? Number(ttl) : undefined;
    if (ttlSeconds !== undefined && (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0)) {
      setError('Time to live is a whole number of seconds.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const command = await api.createCommand(deviceId, { name: name.trim(), params: parsedParams, ttlSeconds });
      merge([command]);
    } catch (failure) {
      setError(errorMessage(failure));
    } finally {
      setBusy(false);
    }
  };

  const cancel = async (command: Command) => {
    try {
      merge([await api.cancelCommand(deviceId, command.id)]);
    } catch (failure) {
      notify(errorMessage(failure), 'error');
    }
  };

  return (
    <section class="card">
      <header class="card-header">
        <div>
          <h2>
            <TerminalIcon size={16} /> Commands
          </h2>
          <p class="card-subtitle">
            {online ? 'Delivered at once' : 'Queued until the device connects'} · each step shows as it happens
          </p>
        </div>
      </header>
      {operator ? (
        <form class="command-form" onSubmit={submit}>
          <input
            class="input input-mono"
            name="command"
            aria-label="Command name"
            placeholder="name, e.g. reboot"
            pattern="[A-Za-z0-9_.:\-]+"
            maxLength={COMMAND_LIMITS.nameMaxLength}
            value={name}
            onInput={(event) => setName(event.currentTarget.value)}
            required
          />
          <input
            class="input input-mono"
            name="params"
            aria-label="Parameters (JSON)"
            placeholder='{"seconds": 5}'
            value={params}
            onInput={(event) => setParams(event.currentTarget.value)}
          />
          <input
            class="input input-ttl"
            name="ttl"
            aria-label="Time to live in seconds"
            placeholder="TTL s"
            inputMode="numeric"
            value={ttl}
            onInput={(event) => setTtl(event.currentTarget.value)}
          />
          <button type="submit" class="button button-primary" disabled={busy}>
            <SendIcon size={14} /> Send
          </button>
        </form>
      ) : (
        <p class="role-note" data-testid="commands-read-only">
          Signed in as a {identity.role}: you see the commands and their steps; an operator or admin sends them.
        </p>
      )}
      {error ? (
        <div class="callout callout-danger command-error" role="alert">
          <AlertIcon /> <span>{error}</span>
        </div>
      ) : null}
      <div class="command-list" data-testid="commands">
        {commands.length === 0 ? (
          <p class="empty-note">
            No commands yet.{operator ? ` Send one above; the device gets it on devices/{id}/commands.` : ''}
          </p>
        ) : (
          commands.map((command) => (
            <article key={command.id} class="command" data-command-id={command.id} data-status={command.status}>
              <div class="command-head">
                <code class="command-name">{command.name}</code>
                <code class="command-params" title={JSON.stringify(command.params)}>
                  {JSON.stringify(command.params)}
                </code>
                <StatusBadge status={command.status} />
                {isFinalCommandStatus(command.status) || !operator ? null : (
                  <button type="button" class="button button-small button-ghost" onClick={() => void cancel(command)}>
                    Cancel
                  </button>
                )}
              </div>
              <CommandTimeline command={command} />
              {command.status === 'succeeded' && command.result !== null && command.result !== undefined ? (
                <pre class="command-result">{showJson(command.result)}</pre>
              ) : null}
              {command.error ? <pre class="command-result tone-danger">{command.error}</pre> : null}
            </article>
          ))
        )}
      </div>
    </section>
  );
}
