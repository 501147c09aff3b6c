import { DEVICE_LIMITS } from '@telehub/contracts';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { errorMessage } from '../../api/api-client.js';
import { Dialog } from '../../components/dialog.js';
import { AlertIcon, CheckIcon, DownloadIcon, UploadIcon } from '../../components/icons.js';
import { useHub } from '../../state/hub-context.js';

const EXAMPLE = 'name,labels,metadata\nsensor-1,lab;floor:1,"{""fw"": ""1.2.0""}"\nsensor-2,lab,\n';

/** Data rows of a CSV text (not counting the header), for the preview; quoted newlines are rare in device lists. */
function countRows(csv: string): number {
  return Math.max(0, csv.split(/\r?\n/).filter((line) => line.trim() !== '').length - 1);
}

/** Bulk provisioning from a CSV file: all or nothing, answered with an id,name,token file to download once. */
export function BulkImportDialog({ onClose, onImported }: { onClose: () => void; onImported: () => void }) {
  const { api } = useHub();
  const [csv, setCsv] = useState('');
  const [fileName, setFileName] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ count: number; url: string } | null>(null);
  const rows = useMemo(() => countRows(csv), [csv]);

  useEffect(() => () => (result ? URL.revokeObjectURL(result.url) : undefined), [result]);

  const readFile = async (file: File | undefined) => {
    if (!file) return;
    setFileName(file.name);
    setError(null);
    setCsv(await file.text());
  };

  const submit = async (event: Event) => {
    event.preventDefault();
    if (rows === 0) {
      setError('The CSV needs a header row (with a "name" column) and at least one device.');
      return;
    }
    if (rows > DEVICE_LIMITS.bulkMaxDevices) {
      setError(`At most ${DEVICE_LIMITS.bulkMaxDevices.toLocaleString()} devices per import; this file has ${rows}.`);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const tokens = await api.bulkCreateDevicesCsv(csv);
      const url = URL.createObjectURL(new Blob([tokens], { type: 'text/csv' }));
      setResult({ count: countRows(tokens), url });
      onImported();
    } catch (failure) {
      setError(errorMessage(failure));
    } finally {
      setBusy(false);
    }
  };

  if (result) {
    return (
      <Dialog title="Devices created" onClose={onClose}>
        <div class="callout callout-success">
          <CheckIcon /> <span>{result.count.toLocaleString()} devices were created.</span>
        </div>
        <div class="callout callout-warning">
          <AlertIcon />
          <span>Download their tokens now: this file is the only copy. Store it like a password.</span>
        </div>
        <footer class="dialog-footer">
          <button type="button" class="button" onClick={onClose}>
            Done
          </button>
          <a class="button button-primary" href={result.url} download={`telehub-devices-${Date.now()}.csv`}>
            <DownloadIcon /> Download tokens (CSV)
          </a>
        </footer>
      </Dialog>
    );
  }

  return (
    <Dialog title="Import devices from CSV" onClose={onClose}>
      <form class="form" onSubmit={submit}>
        <p class="muted">
          A <code>name</code> column, and optionally <code>labels</code> (separated by <code>;</code>) and{' '}
          <code>metadata</code> (JSON). Up to {DEVICE_LIMITS.bulkMaxDevices.toLocaleString()} devices, created all or
          none.
        </p>
        <label class="dropzone">
          <UploadIcon size={20} />
          <span>{fileName ? fileName : 'Choose a CSV file'}</span>
          <input
            type="file"
            accept=".csv,text/csv"
            onChange={(event) => void readFile(event.currentTarget.files?.[0])}
          />
        </label>
        <label class="field">
          <span class="field-label">
            Or paste CSV <span class="optional">{rows > 0 ? `${rows} devices` : ''}</span>
          </span>
          <textarea
            class="input input-mono"
            rows={6}
            placeholder={EXAMPLE}
            value={csv}
            onInput={(event) => setCsv(event.currentTarget.value)}
          />
        </label>
        {error ? (
          <div class="callout callout-danger" role="alert">
            <AlertIcon /> <span>{error}</span>
          </div>
        ) : null}
        <footer class="dialog-footer">
          <button type="button" class="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="button button-primary" disabled={busy || rows === 0}>
            {busy ? 'Creating…' : rows > 0 ? `Create ${rows.toLocaleString()} devices` : 'Create devices'}
          </button>
        </footer>
      </form>
    </Dialog>
  );
}
