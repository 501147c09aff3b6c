import { type AdminCommandStatusMessage, type Command, isFinalCommandStatus } from '@telehub/contracts';

/** The later of two views of the same command: more transitions, or a final status, wins. */
export function newerCommand(a: Command, b: Command): Command {
  if (isFinalCommandStatus(b.status) && !isFinalCommandStatus(a.status)) return b;
  if (isFinalCommandStatus(a.status) && !isFinalCommandStatus(b.status)) return a;
  return b.transitions.length >= a.transitions.length ? b : a;
}

/** Applies a `command_status` message to the command it is about. */
export function applyStatus(command: Command, message: AdminCommandStatusMessage): Command {
  if (message.command) return newerCommand(command, message.command);
  if (command.transitions.some((transition) => transition.status === message.status)) return command;
  if (isFinalCommandStatus(command.status)) return command;
  const at = new Date(message.at).toISOString();
  return {
    ...command,
    status: message.status,
    transitions: [...command.transitions, { status: message.status, at }],
    error: message.error ?? command.error,
  };
}
