import { randomBytes } from 'node:crypto';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { DEVICE_LIMITS } from '@telehub/contracts';
import { parse } from 'csv-parse/sync';

/** What the simulator needs to connect as a device. */
export interface DeviceCredentials {
  id: string;
  name: string;
  token: string;
}

export interface ProvisionRequest {
  hubUrl: string;
  adminToken: string;
  count: number;
  label: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Creates `count` devices with POST /api/v1/devices/bulk, in requests of at most DEVICE_LIMITS.bulkMaxDevices.
 * Names carry a run id (`simulator-k3f9-0001`) so the devices of one run are easy to find and delete.
 */
export async function provisionDevices(request: ProvisionRequest): Promise<DeviceCredentials[]> {
  const run = randomBytes(3).toString('hex');
  const width = String(request.count).length;
  const labels = [...new Set(['simulator', request.label])];
  const devices: DeviceCredentials[] = [];
  for (let start = 0; start < request.count; start += DEVICE_LIMITS.bulkMaxDevices) {
    const size = Math.min(DEVICE_LIMITS.bulkMaxDevices, request.count - start);
    const body = Array.from({ length: size }, (_, index) => ({
      name: `${request.label.replaceAll(/[:/]/g, '-')}-${run}-${String(start + index + 1).padStart(width, '0')}`,
      labels,
      metadata: { simulator: true, run },
    }));
    const created = await postBulk(request, body);
    devices.push(...created.map(({ id, name, token }) => ({ id, name, token })));
  }
  return devices;
}

async function postBulk(request: ProvisionRequest, body: unknown[]): Promise<DeviceCredentials[]> {
  const url = `${request.hubUrl}/api/v1/devices/bulk`;
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${request.adminToken}`,
        'Content-Type': 'application/json',
        Accept: 'application/json',
      },
      body: JSON.stringify(body),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new Error(`cannot reach the hub at ${request.hubUrl}: ${cause?.code ?? cause?.message ?? error}`);
  }
  const text = await response.text();
  if (response.status !== 201) {
    throw new Error(`creating devices failed: POST ${url} answered ${response.status} ${problemText(text)}`);
  }
  return JSON.parse(text) as DeviceCredentials[];
}

/** The Problem Details `code` and `detail` of an error answer, or its text. */
function problemText(text: string): string {
  try {
    const problem = JSON.parse(text) as { code?: string; title?: string; detail?: string };
    return [problem.code, problem.detail ?? problem.title].filter(Boolean).join(': ');
  } catch {
    return text.slice(0, 200);
  }
}

/**
 * Devices from CSV text with a header naming at least `id` and `token` (any order, other columns ignored), as
 * written by --write-csv or by the bulk endpoint with `Accept: text/csv` (`id,name,token`).
 */
export function parseDevicesCsv(text: string, source: string): DeviceCredentials[] {
  let records: Record<string, string>[];
  try {
    records = parse(text, {
      columns: (header: string[]) => header.map((column) => column.trim().toLowerCase()),
      skip_empty_lines: true,
      trim: true,
      bom: true,
    });
  } catch (error) {
    throw new Error(`${source}: not valid CSV: ${(error as Error).message}`);
  }
  if (records.length === 0)
    throw new Error(`${source}: no devices (a header line with id,token and one row per device)`);
  const header = Object.keys(records[0]!);
  for (const column of ['id', 'token']) {
    if (!header.includes(column))
      throw new Error(`${source}: the header has no "${column}" column (found: ${header.join(', ')})`);
  }
  return records.map((record, index) => {
    // Line numbers as an editor shows them: the header is line 1.
    const line = index + 2;
    if (!UUID.test(record.id ?? ''))
      throw new Error(`${source}: line ${line}: id must be a device UUID, got ${JSON.stringify(record.id)}`);
    if (!record.token) throw new Error(`${source}: line ${line}: the token is empty`);
    return { id: record.id!, name: record.name || record.id!, token: record.token };
  });
}

export function formatDevicesCsv(devices: readonly DeviceCredentials[]): string {
  const quote = (value: string) => (/[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value);
  return `id,name,token\n${devices.map((device) => [device.id, quote(device.name), device.token].join(',')).join('\n')}\n`;
}

export async function readDevicesCsv(path: string): Promise<DeviceCredentials[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  return parseDevicesCsv(text, path);
}

/** Owner-only (0600): the file holds device tokens. chmod too, as `mode` applies only to a new file. */
export async function writeDevicesCsv(path: string, devices: readonly DeviceCredentials[]): Promise<void> {
  await writeFile(path, formatDevicesCsv(devices), { mode: 0o600 });
  await chmod(path, 0o600);
}
