import { describe, expect, it } from 'vitest';
import { seededRandom } from './seeded-random.js';
import { DEFAULT_METRIC_WALKS, type MetricWalk, TelemetryWalk } from './telemetry-walk.js';

function samples(seed: number, count: number, metrics?: readonly MetricWalk[]): Record<string, number>[] {
  const walk = new TelemetryWalk(seededRandom(seed), metrics);
  return Array.from({ length: count }, () => walk.next());
}

describe('TelemetryWalk', () => {
  it('replays the same readings for the same seed, and others for another seed', () => {
    expect(samples(11, 50)).toEqual(samples(11, 50));
    expect(samples(11, 50)).not.toEqual(samples(12, 50));
  });

  it('reads every default metric, within its bounds and at its precision, over a long run', () => {
    const readings = samples(3, 20_000);
    for (const metric of DEFAULT_METRIC_WALKS) {
      const values = readings.map((reading) => reading[metric.name]!);
      const scale = 10 ** metric.decimals;
      expect(values.filter((value) => !(value >= metric.min && value <= metric.max))).toEqual([]);
      expect(values.filter((value) => Math.round(value * scale) / scale !== value)).toEqual([]);
    }
    expect(Object.keys(readings[0]!).sort()).toEqual(['battery', 'humidity', 'rssi', 'temperature']);
  });

  it('moves a little from one sample to the next, not like independent noise', () => {
    const readings = samples(5, 2_000).map((reading) => reading.temperature!);
    const steps = readings.slice(1).map((value, index) => Math.abs(value - readings[index]!));
    const meanStep = steps.reduce((sum, step) => sum + step, 0) / steps.length;
    // step 0.05 and noise 0.05: consecutive readings differ by about a tenth of a degree.
    expect(meanStep).toBeGreaterThan(0.02);
    expect(meanStep).toBeLessThan(0.2);
    // …while over the run the value wanders further than one step.
    expect(Math.max(...readings) - Math.min(...readings)).toBeGreaterThan(0.5);
  });

  it('drains the battery', () => {
    const readings = samples(9, 5_000).map((reading) => reading.battery!);
    expect(readings.at(-1)!).toBeLessThan(readings[0]! - 5);
  });

  it('reflects off a bound instead of sticking to it', () => {
    const pinned: MetricWalk = { name: 'level', start: [0, 0], min: 0, max: 1, step: 0.3, noise: 0, decimals: 3 };
    const readings = samples(2, 1_000, [pinned]).map((reading) => reading.level!);
    expect(readings.every((value) => value >= 0 && value <= 1)).toBe(true);
    expect(readings.filter((value) => value === 0).length).toBeLessThan(50);
  });

  it('refuses a metric it cannot simulate, naming the problem', () => {
    const bad: MetricWalk = { name: 'temp erature', start: [5, 1], min: 0, max: 10, step: 1, noise: 0, decimals: 0 };
    expect(() => new TelemetryWalk(seededRandom(1), [bad])).toThrow(/temp erature.*name must be.*start must be/);
    const same: MetricWalk = { name: 'a', start: [0, 1], min: 0, max: 1, step: 0, noise: 0, decimals: 0 };
    expect(() => new TelemetryWalk(seededRandom(1), [same, same])).toThrow(/unique/);
  });
});
