import type {
  AdminIdentity,
  AdminTokenInfo,
  Command,
  CommandPage,
  CreateAdminTokenRequest,
  CreateCommandRequest,
  CreateDeviceRequest,
  Device,
  DeviceDetail,
  DeviceEvent,
  DevicePage,
  DeviceSort,
  DeviceStatus,
  DeviceTokenInfo,
  DeviceWithToken,
  IssuedAdminToken,
  IssuedDeviceToken,
  IssueTokenRequest,
  ProblemDetails,
  UpdateDeviceRequest,
} from '@telehub/contracts';

const API = '/api/v1';

/** An HTTP error, from the hub's RFC 9457 Problem Details when it sent them. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fieldErrors: { field: string; message: string }[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** A message for people: the Problem Details `detail` with its field errors, or what went wrong on the way. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) {
    const fields = error.fieldErrors.map((item) => `${item.field}: ${item.message}`).join('; ');
    return fields && !error.message.includes(fields) ? `${error.message} (${fields})` : error.message;
  }
  if (error instanceof TypeError) return 'The hub cannot be reached. Is it running?';
  return error instanceof Error ? error.message : String(error);
}

interface RequestOptions {
  query?: Record<string, string | number | string[] | undefined>;
  body?: unknown;
  text?: { contentType: string; body: string };
  accept?: string;
}

export interface ListDevicesParams {
  limit?: number;
  cursor?: string;
  labels?: string[];
  namePrefix?: string;
  /** A piece of the name or the id, anywhere, ignoring case. */
  search?: string;
  statuses?: DeviceStatus[];
  sort?: DeviceSort;
  /** Each device's latest value per metric in the page. */
  latest?: boolean;
}

/** The admin REST API, typed by the contracts the hub validates against. */
export class ApiClient {
  constructor(
    private readonly token: string,
    /** Called on 401 with the hub's reason: the token stopped working (revoked, expired) or never did. */
    private readonly onUnauthorized: (detail: string) => void = () => undefined,
  ) {}

  /** Who the token belongs to: name, role, expiry (any role may ask). */
  me(): Promise<AdminIdentity> {
    return this.json('GET', '/admin-tokens/me');
  }

  listAdminTokens(): Promise<AdminTokenInfo[]> {
    return this.json('GET', '/admin-tokens');
  }

  createAdminToken(body: CreateAdminTokenRequest): Promise<IssuedAdminToken> {
    return this.json('POST', '/admin-tokens', { body });
  }

  revokeAdminToken(id: string): Promise<AdminTokenInfo> {
    return this.json('DELETE', `/admin-tokens/${encodeURIComponent(id)}`);
  }

  listDevices(params: ListDevicesParams = {}): Promise<DevicePage> {
    const { labels, statuses, latest, ...rest } = params;
    return this.json('GET', '/devices', {
      query: { ...rest, label: labels, status: statuses, latest: latest ? 'true' : undefined },
    });
  }

  getDevice(id: string): Promise<DeviceDetail> {
    return this.json('GET', `/devices/${encodeURIComponent(id)}`);
  }

  createDevice(body: CreateDeviceRequest): Promise<DeviceWithToken> {
    return this.json('POST', '/devices', { body });
  }

  /** CSV in (`name,labels,metadata`), `id,name,token` CSV out. All or nothing. */
  bulkCreateDevicesCsv(csv: string): Promise<string> {
    return this.request('POST', '/devices/bulk', {
      text: { contentType: 'text/csv', body: csv },
      accept: 'text/csv',
    }).then((response) => response.text());
  }

  updateDevice(id: string, body: UpdateDeviceRequest): Promise<Device> {
    return this.json('PATCH', `/devices/${encodeURIComponent(id)}`, { body });
  }

  deleteDevice(id: string): Promise<void> {
    return this.request('DELETE', `/devices/${encodeURIComponent(id)}`).then(() => undefined);
  }

  deviceEvents(id: string, limit = 50): Promise<DeviceEvent[]> {
    return this.json('GET', `/devices/${encodeURIComponent(id)}/events`, { query: { limit } });
  }

  listTokens(deviceId: string): Promise<DeviceTokenInfo[]> {
    return this.json('GET', `/devices/${encodeURIComponent(deviceId)}/tokens`);
  }

  issueToken(deviceId: string, body: IssueTokenRequest = {}): Promise<IssuedDeviceToken> {
    return this.json('POST', `/devices/${encodeURIComponent(deviceId)}/tokens`, { body });
  }

  revokeToken(deviceId: string, tokenId: string): Promise<DeviceTokenInfo> {
    return this.json('DELETE', `/devices/${encodeURIComponent(deviceId)}/tokens/${encodeURIComponent(tokenId)}`);
  }

  listCommands(deviceId: string, limit = 20): Promise<CommandPage> {
    return this.json('GET', `/devices/${encodeURIComponent(deviceId)}/commands`, { query: { limit } });
  }

  createCommand(deviceId: string, body: CreateCommandRequest): Promise<Command> {
    return this.json('POST', `/devices/${encodeURIComponent(deviceId)}/commands`, { body });
  }

  cancelCommand(deviceId: string, commandId: string): Promise<Command> {
    const path = `/devices/${encodeURIComponent(deviceId)}/commands/${encodeURIComponent(commandId)}/cancel`;
    return this.json('POST', path);
  }

  private async json<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.request(method, path, options);
    return (await response.json()) as T;
  }

  private async request(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    const headers: Record<string, string> = {
      Authorization: `Bearer ${this.token}`,
      Accept: options.accept ?? 'application/json',
    };
    let body: string | undefined;
    if (options.text) {
      headers['Content-Type'] = options.text.contentType;
      body = options.text.body;
    } else if (options.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    const response = await fetch(`${API}${path}${queryString(options.query)}`, { method, headers, body });
    if (response.ok) return response;
    const problem = await readProblem(response);
    if (response.status === 401) this.onUnauthorized(problem.message);
    throw problem;
  }
}

function queryString(query: RequestOptions['query']): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === '') continue;
    for (const item of Array.isArray(value) ? value : [value]) params.append(key, String(item));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

async function readProblem(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => '');
  try {
    const problem = JSON.parse(text) as Partial<ProblemDetails>;
    return new ApiError(
      response.status,
      problem.code ?? `http_${response.status}`,
      problem.detail ?? problem.title ?? `${response.status} ${response.statusText}`,
      problem.errors ?? [],
    );
  } catch {
    return new ApiError(response.status, `http_${response.status}`, `${response.status} ${response.statusText}`);
  }
}
