import type { Device } from '@telehub/contracts';
import type { ApiClient } from '../api/api-client.js';
import { Store } from './store.js';

/** Requests for names of devices not seen yet run this many at a time. */
const LOOKUP_CONCURRENCY = 4;

/**
 * Device names by id, so events (which carry ids) can say which device. Filled by every device list the
 * dashboard loads; an unknown id is looked up once.
 */
export class DeviceDirectory {
  readonly names = new Store<ReadonlyMap<string, string>>(new Map());
  private readonly requested = new Set<string>();
  private readonly queue: string[] = [];
  private running = 0;

  constructor(private readonly api: ApiClient) {}

  remember(devices: readonly Pick<Device, 'id' | 'name'>[]): void {
    const names = new Map(this.names.get());
    let changed = false;
    for (const device of devices) {
      if (names.get(device.id) === device.name) continue;
      names.set(device.id, device.name);
      changed = true;
    }
    if (changed) this.names.set(names);
  }

  /** Looks up the names of ids not known yet (in the background). */
  want(ids: readonly (string | null)[]): void {
    const known = this.names.get();
    for (const id of ids) {
      if (!id || known.has(id) || this.requested.has(id)) continue;
      this.requested.add(id);
      this.queue.push(id);
    }
    this.pump();
  }

  private pump(): void {
    while (this.running < LOOKUP_CONCURRENCY && this.queue.length > 0) {
      const id = this.queue.shift()!;
      this.running += 1;
      this.api
        .getDevice(id)
        .then((device) => this.remember([device]))
        .catch(() => undefined) // deleted devices keep showing their id
        .finally(() => {
          this.running -= 1;
          this.pump();
        });
    }
  }
}
