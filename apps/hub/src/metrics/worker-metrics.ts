import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';

/** A worker asks the primary for the machine's metrics; the primary answers with the text. */
const METRICS_REQUEST = 'telehub:metrics-request';
const METRICS_RESPONSE = 'telehub:metrics-response';
/** prom-client gives up on a worker that does not answer within 5 s; this is a little longer. */
const SCRAPE_TIMEOUT_MS = 6_000;

interface MetricsRequest {
  type: typeof METRICS_REQUEST;
  id: number;
}
interface MetricsResponse {
  type: typeof METRICS_RESPONSE;
  id: number;
  text?: string;
  error?: string;
}

/**
 * /metrics with TELEHUB_WORKERS: a scrape reaches whichever worker the primary handed its connection to, and must
 * answer for the whole machine. The worker asks the primary, which gathers every worker's registry over IPC
 * (prom-client's AggregatorRegistry) and adds them up: counters and histograms summed, gauges summed unless the
 * metric names another aggregator (`aggregator` on the metric: `max` for figures every worker reads from the
 * database, `first` for info-like ones, prom-client's own choices for its default metrics).
 */
export class WorkerMetrics {
  private nextId = 0;
  private readonly pending = new Map<number, (response: MetricsResponse) => void>();

  /** In a worker: answers the primary's requests from `registry`, and takes the primary's answers to this one's. */
  constructor(registry: Registry) {
    AggregatorRegistry.setRegistries([registry]);
    answerMetricsRequests();
    process.on('message', (message: unknown) => {
      if ((message as MetricsResponse | null)?.type !== METRICS_RESPONSE) return;
      const response = message as MetricsResponse;
      this.pending.get(response.id)?.(response);
    });
  }

  /** True in a worker of TELEHUB_WORKERS, where a scrape must answer for every worker. */
  static applies(): boolean {
    return cluster.isWorker && typeof process.send === 'function';
  }

  /** The text exposition of every worker's metrics, aggregated by the primary. */
  machineText(): Promise<string> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error('the primary did not answer with the workers’ metrics'));
      }, SCRAPE_TIMEOUT_MS);
      this.pending.set(id, (response) => {
        clearTimeout(timer);
        this.pending.delete(id);
        if (response.error !== undefined || response.text === undefined) reject(new Error(response.error));
        else resolve(response.text);
      });
      process.send!({ type: METRICS_REQUEST, id } satisfies MetricsRequest);
    });
  }
}

/**
 * Constructing an AggregatorRegistry installs prom-client's IPC listener (once per process): in a worker it answers
 * the primary with the registries given to setRegistries (getMetricsAsJSON()).
 *
 * In a worker, first thing: answers the primary's requests for this worker's metrics at once (none until its
 * HubMetrics registers them), so a scrape while a worker starts does not wait for prom-client's 5 s timeout.
 */
export function answerMetricsRequests(): void {
  new AggregatorRegistry();
}

/** In the primary of TELEHUB_WORKERS: answers each worker's request for the machine's metrics. */
export function serveWorkerMetrics(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker: Worker, message: unknown) => {
    if ((message as MetricsRequest | null)?.type !== METRICS_REQUEST) return;
    const { id } = message as MetricsRequest;
    const reply = (response: Omit<MetricsResponse, 'type' | 'id'>) => {
      if (worker.isConnected()) worker.send({ type: METRICS_RESPONSE, id, ...response } satisfies MetricsResponse);
    };
    aggregator.clusterMetrics().then(
      (text) => reply({ text }),
      (error: unknown) => reply({ error: error instanceof Error ? error.message : String(error) }),
    );
  });
}
