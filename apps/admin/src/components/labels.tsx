/** Device labels as chips; `onPick` makes them filter buttons. */
export function Labels({
  labels,
  onPick,
  max,
}: {
  labels: readonly string[];
  onPick?: (label: string) => void;
  max?: number;
}) {
  if (labels.length === 0) return null;
  const shown = max === undefined ? labels : labels.slice(0, max);
  const hidden = labels.length - shown.length;
  return (
    <span class="labels">
      {shown.map((label) =>
        onPick ? (
          <button
            type="button"
            key={label}
            class="chip chip-button"
            title={`Show devices labelled ${label}`}
            onClick={(event) => {
              event.preventDefault();
              event.stopPropagation();
              onPick(label);
            }}
          >
            {label}
          </button>
        ) : (
          <span key={label} class="chip">
            {label}
          </span>
        ),
      )}
      {hidden > 0 ? <span class="chip chip-more">+{hidden}</span> : null}
    </span>
  );
}
