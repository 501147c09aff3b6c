import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { CloseIcon } from './icons.js';

/** A modal on the native <dialog>: focus stays inside, Escape closes, the page behind is inert. */
export function Dialog({
  title,
  onClose,
  children,
  wide = false,
}: {
  title: string;
  onClose: () => void;
  children: ComponentChildren;
  wide?: boolean;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const element = dialog.current!;
    element.showModal();
    const onCancel = (event: Event) => {
      event.preventDefault();
      onClose();
    };
    element.addEventListener('cancel', onCancel);
    return () => {
      element.removeEventListener('cancel', onCancel);
      if (element.open) element.close();
    };
  }, [onClose]);
  return (
    // A click on the backdrop (the dialog element itself, outside its body) closes it; Escape does the same.
    // biome-ignore lint/a11y/useKeyWithClickEvents: the keyboard way is Escape, handled by the cancel event
    <dialog
      ref={dialog}
      class={`dialog ${wide ? 'dialog-wide' : ''}`}
      aria-label={title}
      onClick={(event) => {
        if (event.target === dialog.current) onClose();
      }}
    >
      <div class="dialog-body">
        <header class="dialog-header">
          <h2>{title}</h2>
          <button type="button" class="button button-icon button-ghost" aria-label="Close" onClick={onClose}>
            <CloseIcon />
          </button>
        </header>
        {children}
      </div>
    </dialog>
  );
}
