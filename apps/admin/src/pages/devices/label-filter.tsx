import { useState } from 'preact/hooks';
import { CloseIcon } from '../../components/icons.js';

/** Label filter: devices must carry every chosen label (the API's repeated `label`). */
export function LabelFilter({
  selected,
  suggestions,
  onAdd,
  onRemove,
}: {
  selected: readonly string[];
  suggestions: readonly string[];
  onAdd: (label: string) => void;
  onRemove: (label: string) => void;
}) {
  const [draft, setDraft] = useState('');
  const add = () => {
    const label = draft.trim();
    if (label) onAdd(label);
    setDraft('');
  };
  return (
    <div class="label-filter">
      {selected.map((label) => (
        <span key={label} class="chip chip-active">
          {label}
          <button type="button" aria-label={`Remove label filter ${label}`} onClick={() => onRemove(label)}>
            <CloseIcon size={12} />
          </button>
        </span>
      ))}
      <input
        class="input input-small"
        list="known-labels"
        placeholder={selected.length ? 'and label…' : 'Filter by label…'}
        aria-label="Filter by label"
        value={draft}
        onInput={(event) => setDraft(event.currentTarget.value)}
        onChange={(event) => {
          // Picking a suggestion from the list fires change without Enter.
          if (suggestions.includes(event.currentTarget.value)) {
            onAdd(event.currentTarget.value);
            setDraft('');
          }
        }}
        onKeyDown={(event) => {
          if (event.key === 'Enter') {
            event.preventDefault();
            add();
          } else if (event.key === 'Backspace' && draft === '' && selected.length > 0) {
            onRemove(selected[selected.length - 1]!);
          }
        }}
      />
      <datalist id="known-labels">
        {suggestions
          .filter((label) => !selected.includes(label))
          .map((label) => (
            <option key={label} value={label} />
          ))}
      </datalist>
    </div>
  );
}
