/** Online: a green dot with a soft pulse; offline: grey; disabled: hollow. */
export function StatusDot({ online, disabled = false }: { online: boolean; disabled?: boolean }) {
  const state = disabled ? 'disabled' : online ? 'online' : 'offline';
  return <span class={`status-dot status-dot-${state}`} title={state} role="img" aria-label={state} />;
}
