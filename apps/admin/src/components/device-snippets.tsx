import { useState } from 'preact/hooks';
import { useHub } from '../state/hub-context.js';
import { useStore } from '../state/store.js';
import { CopyButton } from './copy-button.js';
import { AlertIcon } from './icons.js';
import { type DeviceCredentials, deviceSnippets, type SnippetKey } from './snippet-text.js';

const TABS: { key: SnippetKey; label: string }[] = [
  { key: 'loop', label: 'mosquitto_pub loop' },
  { key: 'once', label: 'mosquitto_pub' },
  { key: 'mqttjs', label: 'MQTT.js' },
];

/** A new device token, shown this once, with the snippets that use it. */
export function TokenReveal({
  credentials,
  title = 'Device token',
}: {
  credentials: DeviceCredentials;
  title?: string;
}) {
  const [tab, setTab] = useState<SnippetKey>('loop');
  const mqttPort = useStore(useHub().socket.mqttPort);
  const snippets = deviceSnippets(credentials, undefined, mqttPort);
  return (
    <div class="token-reveal">
      <div class="callout callout-warning">
        <AlertIcon />
        <span>Copy the token now: the hub stores only a hash of it, so it cannot be shown again.</span>
      </div>
      <dl class="credentials">
        <div>
          <dt>Device id</dt>
          <dd>
            <code data-testid="device-id">{credentials.id}</code>
            <CopyButton text={credentials.id} compact label="Copy device id" />
          </dd>
        </div>
        <div>
          <dt>{title}</dt>
          <dd>
            <code class="secret" data-testid="device-token">
              {credentials.token}
            </code>
            <CopyButton text={credentials.token} label="Copy token" />
          </dd>
        </div>
      </dl>
      <div class="snippets">
        <div class="tabs" role="tablist">
          {TABS.map((item) => (
            <button
              key={item.key}
              type="button"
              role="tab"
              aria-selected={tab === item.key}
              class={`tab ${tab === item.key ? 'tab-active' : ''}`}
              onClick={() => setTab(item.key)}
            >
              {item.label}
            </button>
          ))}
        </div>
        <div class="code-block">
          <pre data-testid={`snippet-${tab}`}>{snippets[tab]}</pre>
          <CopyButton text={snippets[tab]} compact label="Copy snippet" />
        </div>
        <p class="hint">
          {tab === 'mqttjs'
            ? 'Node.js 20+: npm install mqtt, save as device.mjs, run node device.mjs.'
            : `Needs mosquitto-clients. MQTT port ${mqttPort}, as the hub reports it.`}
        </p>
      </div>
    </div>
  );
}
