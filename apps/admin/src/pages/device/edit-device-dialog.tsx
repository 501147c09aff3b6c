import { type Device, type DeviceDetail, UpdateDeviceRequestSchema } from '@telehub/contracts';
import { useState } from 'preact/hooks';
import { errorMessage } from '../../api/api-client.js';
import { Dialog } from '../../components/dialog.js';
import { AlertIcon } from '../../components/icons.js';
import { useHub } from '../../state/hub-context.js';
import { parseLabels } from '../devices/parse-labels.js';

/** Name, labels, metadata and the inactivity timeout of a device (admin role). */
export function EditDeviceDialog({
  device,
  onClose,
  onSaved,
}: {
  device: DeviceDetail;
  onClose: () => void;
  onSaved: (device: Device) => void;
}) {
  const { api } = useHub();
  const [name, setName] = useState(device.name);
  const [labels, setLabels] = useState(device.labels.join(' '));
  const [metadata, setMetadata] = useState(
    Object.keys(device.metadata).length === 0 ? '' : JSON.stringify(device.metadata, null, 2),
  );
  const [timeout, setTimeoutText] = useState(device.inactivityTimeoutSeconds?.toString() ?? '');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    let parsedMetadata: unknown = {};
    if (metadata.trim()) {
      try {
        parsedMetadata = JSON.parse(metadata);
      } catch {
        setError('Metadata must be a JSON object, for example {"fw": "1.2.0"}.');
        return;
      }
    }
    // The same rules the hub applies, checked before the round trip.
    const request = UpdateDeviceRequestSchema.safeParse({
      name,
      labels: parseLabels(labels),
      metadata: parsedMetadata,
      inactivityTimeoutSeconds: timeout.trim() === '' ? null : Number(timeout),
    });
    if (!request.success) {
      setError(request.error.issues.map((issue) => `${issue.path.join('.') || 'device'}: ${issue.message}`).join('; '));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      onSaved(await api.updateDevice(device.id, request.data));
    } catch (failure) {
      setError(errorMessage(failure));
      setBusy(false);
    }
  };

  return (
    <Dialog title={`Edit ${device.name}`} onClose={onClose}>
      <form class="form" onSubmit={submit}>
        <label class="field">
          <span class="field-label">Name</span>
          <input
            class="input"
            name="name"
            value={name}
            onInput={(event) => setName(event.currentTarget.value)}
            required
          />
        </label>
        <label class="field">
          <span class="field-label">Labels</span>
          <input
            class="input"
            name="labels"
            placeholder="greenhouse floor:2"
            value={labels}
            onInput={(event) => setLabels(event.currentTarget.value)}
          />
          <span class="field-hint">Separated by spaces or commas; letters, digits and . _ : / - only.</span>
        </label>
        <label class="field">
          <span class="field-label">
            Metadata <span class="optional">JSON object</span>
          </span>
          <textarea
            class="input input-mono"
            name="metadata"
            rows={5}
            placeholder='{"fw": "1.2.0", "site": "north"}'
            value={metadata}
            onInput={(event) => setMetadata(event.currentTarget.value)}
          />
        </label>
        <label class="field">
          <span class="field-label">
            Inactivity timeout <span class="optional">seconds</span>
          </span>
          <input
            class="input"
            name="inactivityTimeoutSeconds"
            inputMode="numeric"
            placeholder="the hub's default"
            value={timeout}
            onInput={(event) => setTimeoutText(event.currentTarget.value)}
          />
          <span class="field-hint">
            Without a connection, the device is shown online (active) this long after it was last heard from. Empty: the
            hub's TELEHUB_DEVICE_INACTIVITY_TIMEOUT_S.
          </span>
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
          <button type="submit" class="button button-primary" disabled={busy}>
            {busy ? 'Saving…' : 'Save'}
          </button>
        </footer>
      </form>
    </Dialog>
  );
}
