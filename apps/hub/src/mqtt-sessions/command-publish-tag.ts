/** Sent with each command PUBLISH so its PUBACK can be matched to the command, and kept with a session. */
export interface CommandPublishTag {
  commandId: string;
}

export function commandIdOf(tag: unknown): string | undefined {
  const commandId = (tag as Partial<CommandPublishTag> | undefined)?.commandId;
  return typeof commandId === 'string' ? commandId : undefined;
}
