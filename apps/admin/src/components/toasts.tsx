import { Store, useStore } from '../state/store.js';
import { AlertIcon, CheckIcon, CloseIcon } from './icons.js';

/** How long a notice stays (errors stay until dismissed). */
const TOAST_MS = 4000;

interface Toast {
  id: number;
  kind: 'success' | 'error';
  text: string;
}

const toasts = new Store<Toast[]>([]);
let nextId = 1;

function dismiss(id: number): void {
  toasts.update((list) => list.filter((toast) => toast.id !== id));
}

export function notify(text: string, kind: Toast['kind'] = 'success'): void {
  const id = nextId++;
  toasts.update((list) => [...list.slice(-3), { id, kind, text }]);
  if (kind === 'success') setTimeout(() => dismiss(id), TOAST_MS);
}

export function Toasts() {
  const list = useStore(toasts);
  return (
    <div class="toasts" aria-live="polite">
      {list.map((toast) => (
        <div key={toast.id} class={`toast toast-${toast.kind}`} role={toast.kind === 'error' ? 'alert' : 'status'}>
          {toast.kind === 'error' ? <AlertIcon /> : <CheckIcon />}
          <span>{toast.text}</span>
          <button
            type="button"
            class="button button-icon button-ghost"
            aria-label="Dismiss"
            onClick={() => dismiss(toast.id)}
          >
            <CloseIcon size={14} />
          </button>
        </div>
      ))}
    </div>
  );
}
