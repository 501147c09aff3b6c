import { useEffect, useState } from 'preact/hooks';
import { CheckIcon, CopyIcon } from './icons.js';

/** How long "Copied" shows. */
const COPIED_FEEDBACK_MS = 1600;

/** Copies `text` to the clipboard, falling back to a hidden textarea where the Clipboard API is refused (http). */
export async function copyText(text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
    return;
  } catch {
    // not a secure context, or permission refused: the old way below still works on a click
  }
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.style.position = 'fixed';
  area.style.opacity = '0';
  document.body.append(area);
  area.select();
  document.execCommand('copy');
  area.remove();
}

export function CopyButton({
  text,
  label = 'Copy',
  compact = false,
}: {
  text: string;
  label?: string;
  compact?: boolean;
}) {
  const [copied, setCopied] = useState(false);
  useEffect(() => {
    if (!copied) return;
    const timer = setTimeout(() => setCopied(false), COPIED_FEEDBACK_MS);
    return () => clearTimeout(timer);
  }, [copied]);
  return (
    <button
      type="button"
      class={`button ${compact ? 'button-icon' : 'button-small'} button-ghost copy-button`}
      data-copied={copied ? 'true' : undefined}
      title={copied ? 'Copied' : label}
      aria-label={label}
      onClick={() => void copyText(text).then(() => setCopied(true))}
    >
      {copied ? <CheckIcon size={14} /> : <CopyIcon size={14} />}
      {compact ? null : <span>{copied ? 'Copied' : label}</span>}
    </button>
  );
}
