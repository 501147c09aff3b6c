import type { TelemetryBatch } from '@telehub/db';

/**
 * The `latest` argument of TelemetryRepository.insertBatchWithLatest: the newest row of each (device, metric) in
 * the batch (on equal times the one that arrived later), sorted by device id, then metric.
 *
 * Each pair appears once because one upsert cannot update a row twice; the sort makes every batch lock its
 * device_latest rows in the same order, so two batches in flight cannot deadlock. The order is by UTF-16 code
 * unit (the default string sort): any total order works as long as every batch uses the same one.
 *
 * One pass over the rows with a map per device, no per-row allocation; consecutive rows of one device (a message
 * is always one device) reuse the last map lookup.
 */
export function newestPerMetric(batch: TelemetryBatch): TelemetryBatch {
  const { times, deviceIds, metrics } = batch;
  const byDevice = new Map<string, Map<string, number>>();
  let currentDevice: string | undefined;
  let current = new Map<string, number>();
  for (let row = 0; row < times.length; row++) {
    const deviceId = deviceIds[row]!;
    if (deviceId !== currentDevice) {
      currentDevice = deviceId;
      let known = byDevice.get(deviceId);
      if (!known) {
        known = new Map();
        byDevice.set(deviceId, known);
      }
      current = known;
    }
    const metric = metrics[row]!;
    const newest = current.get(metric);
    if (newest === undefined || times[row]! >= times[newest]!) current.set(metric, row);
  }

  const latest: TelemetryBatch = { times: [], deviceIds: [], metrics: [], values: [] };
  for (const deviceId of [...byDevice.keys()].sort()) {
    const rowByMetric = byDevice.get(deviceId)!;
    for (const metric of [...rowByMetric.keys()].sort()) {
      const row = rowByMetric.get(metric)!;
      latest.times.push(times[row]!);
      latest.deviceIds.push(deviceId);
      latest.metrics.push(metric);
      latest.values.push(batch.values[row]!);
    }
  }
  return latest;
}
