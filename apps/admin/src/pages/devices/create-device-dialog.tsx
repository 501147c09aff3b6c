import { CreateDeviceRequestSchema, type Device, type DeviceWithToken } from '@telehub/contracts';
import { useState } from 'preact/hooks';
import { errorMessage } from '../../api/api-client.js';
import { TokenReveal } from '../../components/device-snippets.js';
import { Dialog } from '../../components/dialog.js';
import { AlertIcon } from '../../components/icons.js';
import { useHub } from '../../state/hub-context.js';
import { parseLabels } from './parse-labels.js';

export function CreateDeviceDialog({
  onClose,
  onCreated,
  onOpen,
}: {
  onClose: () => void;
  onCreated: (device: Device) => void;
  onOpen: (id: string) => void;
}) {
  const { api } = useHub();
  const [name, setName] = useState('');
  const [labels, setLabels] = useState('');
  const [metadata, setMetadata] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<DeviceWithToken | null>(null);

  const submit = async (event: Event) => {
    event.preventDefault();
    let parsedMetadata: unknown = {};
    if (metadata.trim()) {
      try {
        parsedMetadata = JSON.parse(metadata);
      } catch {
        setError('Metadata must be JSON, for example {"fw": "1.2.0"}.');
        return;
      }
    }
    // The same rules the hub applies, checked before the round trip.
    const request = CreateDeviceRequestSchema.safeParse({
      name,
      labels: parseLabels(labels),
      metadata: parsedMetadata,
    });
    if (!request.success) {
      setError(request.error.issues.map((issue) => `${issue.path.join('.') || 'device'}: ${issue.message}`).join('; '));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const device = await api.createDevice(request.data);
      setCreated(device);
      const { token: _token, ...withoutToken } = device;
      onCreated(withoutToken);
    } catch (failure) {
      setError(errorMessage(failure));
    } finally {
      setBusy(false);
    }
  };

  if (created) {
    return (
      <Dialog title={`${created.name} is ready`} onClose={onClose} wide>
        <p class="muted dialog-intro">
          Run a snippet and open the device to watch its chart move. The device connects with its id as the user name
          and the token as the password.
        </p>
        <TokenReveal credentials={{ id: created.id, token: created.token }} />
        <footer class="dialog-footer">
          <button type="button" class="button" onClick={onClose}>
            Done
          </button>
          <button type="button" class="button button-primary" onClick={() => onOpen(created.id)}>
            Open device
          </button>
        </footer>
      </Dialog>
    );
  }

  return (
    <Dialog title="New device" onClose={onClose}>
      <form class="form" onSubmit={submit}>
        <label class="field">
          <span class="field-label">Name</span>
          <input
            class="input"
            name="name"
            placeholder="greenhouse-1"
            value={name}
            onInput={(event) => setName(event.currentTarget.value)}
            required
          />
        </label>
        <label class="field">
          <span class="field-label">
            Labels <span class="optional">optional</span>
          </span>
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
            Metadata <span class="optional">optional JSON</span>
          </span>
          <textarea
            class="input input-mono"
            name="metadata"
            rows={3}
            placeholder='{"fw": "1.2.0"}'
            value={metadata}
            onInput={(event) => setMetadata(event.currentTarget.value)}
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
          <button type="submit" class="button button-primary" disabled={busy}>
            {busy ? 'Creating…' : 'Create device'}
          </button>
        </footer>
      </form>
    </Dialog>
  );
}
