import type { TelemetryBatch } from '@telehub/db';
import { describe, expect, it } from 'vitest';
import { newestPerMetric } from './newest-per-metric.js';

function batchOf(rows: [deviceId: string, metric: string, time: number, value: number][]): TelemetryBatch {
  return {
    deviceIds: rows.map((row) => row[0]),
    metrics: rows.map((row) => row[1]),
    times: rows.map((row) => row[2]),
    values: rows.map((row) => row[3]),
  };
}

describe('newestPerMetric', () => {
  it('keeps the newest row per (device, metric), however the rows arrived', () => {
    const latest = newestPerMetric(
      batchOf([
        ['b', 'temp', 3000, 3],
        ['b', 'temp', 1000, 1],
        ['a', 'temp', 500, 5],
        ['b', 'hum', 2000, 20],
        ['a', 'temp', 400, 4],
        ['b', 'temp', 2000, 2],
      ]),
    );
    expect(latest).toEqual(
      batchOf([
        ['a', 'temp', 500, 5],
        ['b', 'hum', 2000, 20],
        ['b', 'temp', 3000, 3],
      ]),
    );
  });

  it('takes the later arrival when two rows share a time', () => {
    expect(
      newestPerMetric(
        batchOf([
          ['a', 'x', 1000, 1],
          ['a', 'x', 1000, 2],
        ]),
      ).values,
    ).toEqual([2]);
  });

  it('sorts by device id, then metric, by code unit (the same order in every batch)', () => {
    const latest = newestPerMetric(
      batchOf([
        ['f0', 'b', 1, 0],
        ['0a', 'Z', 1, 0],
        ['f0', 'a', 1, 0],
        ['0a', 'a', 1, 0],
        ['0a', 'A', 1, 0],
      ]),
    );
    expect(latest.deviceIds.map((deviceId, row) => `${deviceId}/${latest.metrics[row]}`)).toEqual([
      '0a/A',
      '0a/Z',
      '0a/a',
      'f0/a',
      'f0/b',
    ]);
  });

  it('returns empty columns for an empty batch', () => {
    expect(newestPerMetric(batchOf([]))).toEqual(batchOf([]));
  });
});
