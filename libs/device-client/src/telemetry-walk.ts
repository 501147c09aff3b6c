import { gaussian, type Random } from './seeded-random.js';

/** How one simulated metric moves from sample to sample. */
export interface MetricWalk {
  /** Metric name as sent: letters, digits and _ . : / - (docs/device-protocol.md, "Telemetry"). */
  name: string;
  /** The first value is drawn uniformly from [from, to]. */
  start: readonly [from: number, to: number];
  /** Hard bounds: the walk reflects off them and readings are clamped to them. */
  min: number;
  max: number;
  /** Standard deviation of the walk's step per sample: how fast the true value wanders. */
  step: number;
  /** Added to the true value every sample (a battery drains). */
  drift?: number;
  /** Standard deviation of the measurement noise on each reading (not carried into the next sample). */
  noise: number;
  /** Decimal places of the reading (0 for integers such as dBm). */
  decimals: number;
}

/** A greenhouse-style sensor: temperature (°C), relative humidity (%), battery (%) draining slowly, RSSI (dBm). */
export const DEFAULT_METRIC_WALKS: readonly MetricWalk[] = [
  { name: 'temperature', start: [18, 24], min: -20, max: 50, step: 0.05, noise: 0.05, decimals: 2 },
  { name: 'humidity', start: [35, 60], min: 0, max: 100, step: 0.2, noise: 0.3, decimals: 1 },
  // About 0.2 % per 100 samples: a full battery lasts roughly 14 hours of one-second samples.
  { name: 'battery', start: [60, 100], min: 0, max: 100, step: 0.002, drift: -0.002, noise: 0, decimals: 2 },
  { name: 'rssi', start: [-80, -55], min: -110, max: -30, step: 0.5, noise: 2, decimals: 0 },
];

const METRIC_NAME = /^[A-Za-z0-9_.:/-]{1,100}$/;

/**
 * Realistic sensor values: each metric follows a bounded random walk (a slowly wandering true value) and each
 * reading adds measurement noise. Pure apart from its random source, so a seeded source replays the same data.
 */
export class TelemetryWalk {
  private readonly values: number[];

  constructor(
    private readonly random: Random,
    private readonly metrics: readonly MetricWalk[] = DEFAULT_METRIC_WALKS,
  ) {
    for (const metric of metrics) checkMetric(metric);
    if (new Set(metrics.map((metric) => metric.name)).size !== metrics.length) {
      throw new RangeError('metric names must be unique');
    }
    this.values = metrics.map((metric) => metric.start[0] + random() * (metric.start[1] - metric.start[0]));
  }

  get metricCount(): number {
    return this.metrics.length;
  }

  /** Advances every metric one sample and returns the readings. */
  next(): Record<string, number> {
    const reading: Record<string, number> = {};
    this.metrics.forEach((metric, index) => {
      const value = reflect(
        this.values[index]! + (metric.drift ?? 0) + metric.step * gaussian(this.random),
        metric.min,
        metric.max,
      );
      this.values[index] = value;
      const measured = metric.noise > 0 ? value + metric.noise * gaussian(this.random) : value;
      reading[metric.name] = round(Math.min(metric.max, Math.max(metric.min, measured)), metric.decimals);
    });
    return reading;
  }
}

/** Folds a value that stepped past a bound back inside, as a wall reflects a walker. */
function reflect(value: number, min: number, max: number): number {
  if (value < min) return Math.min(max, min + (min - value));
  if (value > max) return Math.max(min, max - (value - max));
  return value;
}

function round(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  // + 0 turns -0 into 0, which JSON would print as 0 anyway.
  return Math.round(value * factor) / factor + 0;
}

function checkMetric(metric: MetricWalk): void {
  const problems: string[] = [];
  if (!METRIC_NAME.test(metric.name)) problems.push('name must be 1-100 letters, digits or _ . : / -');
  if (!(metric.min < metric.max)) problems.push('min must be below max');
  const [from, to] = metric.start;
  if (!(metric.min <= from && from <= to && to <= metric.max)) problems.push('start must be a range within [min, max]');
  if (!(metric.step >= 0 && metric.noise >= 0)) problems.push('step and noise must be zero or more');
  if (!Number.isInteger(metric.decimals) || metric.decimals < 0 || metric.decimals > 10) {
    problems.push('decimals must be an integer from 0 to 10');
  }
  if (problems.length > 0) throw new RangeError(`metric ${JSON.stringify(metric.name)}: ${problems.join('; ')}`);
}
