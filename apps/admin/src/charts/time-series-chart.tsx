import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { useStore } from '../state/store.js';
import { theme } from '../state/theme.js';
import { formatValue } from './format.js';
import { onEveryFrame } from './frame-loop.js';
import type { LiveSeries } from './live-series.js';

/** The window slides at least this often (it moves by one pixel at a time on wide windows). */
const MIN_SLIDE_INTERVAL_MS = 100;

export interface ChartHover {
  time: number;
  value: number;
}

export interface TimeSeriesChartProps {
  series: LiveSeries;
  /** The chart shows [now − windowMs, now], sliding; a function when the window changes over time. */
  windowMs: number | (() => number);
  color: string;
  height?: number;
  label?: string;
  format?: (value: number) => string;
  /** Rates and counts: the y axis starts at 0 instead of hugging the data. */
  fromZero?: boolean;
  onHover?: (hover: ChartHover | null) => void;
}

/**
 * A uPlot chart of one live series. The series' typed arrays go to uPlot as they are (no copies); new points
 * and the sliding window are drawn from the shared frame loop, at most once per frame.
 */
export function TimeSeriesChart({
  series,
  windowMs,
  color,
  height = 180,
  label = 'value',
  format = formatValue,
  fromZero = false,
  onHover,
}: TimeSeriesChartProps) {
  const container = useRef<HTMLDivElement>(null);
  const hoverRef = useRef(onHover);
  hoverRef.current = onHover;
  const themeName = useStore(theme);

  useEffect(() => {
    const element = container.current!;
    const span = typeof windowMs === 'number' ? () => windowMs : windowMs;
    const colors = readColors(element);
    const buffer = series.buffer;
    const now = Date.now();
    const options: uPlot.Options = {
      width: Math.max(element.clientWidth, 100),
      height,
      ms: 1,
      pxAlign: false,
      legend: { show: false },
      padding: [8, 4, 0, 0],
      cursor: {
        drag: { x: false, y: false, setScale: false },
        points: { size: 8, width: 2, stroke: color, fill: colors.surface },
      },
      scales: {
        x: { time: true, auto: false, range: () => [Date.now() - span(), Date.now()] },
        y: { auto: true, range: (_plot, min, max) => paddedRange(min, max, fromZero) },
      },
      series: [
        {},
        {
          label,
          stroke: color,
          width: 1.75,
          fill: (plot) => gradient(plot, color),
          points: { show: false },
          value: (_plot, value) => (value === null ? '–' : format(value)),
        },
      ],
      axes: [
        {
          stroke: colors.text,
          font: colors.font,
          grid: { stroke: colors.grid, width: 1 },
          ticks: { show: false },
          size: 30,
          space: 84,
          values: (_plot, splits) => splits.map(timeAxisFormat(span())),
        },
        {
          stroke: colors.text,
          font: colors.font,
          grid: { stroke: colors.grid, width: 1 },
          ticks: { show: false },
          size: 52,
          values: (_plot, splits) => splits.map((split) => format(split)),
        },
      ],
      hooks: {
        setCursor: [
          (plot) => {
            const index = plot.cursor.idx;
            const time = index === null || index === undefined ? undefined : plot.data[0][index];
            const value = index === null || index === undefined ? undefined : plot.data[1]?.[index];
            hoverRef.current?.(
              time === undefined || value === undefined || value === null ? null : { time, value: value },
            );
          },
        ],
      },
    };
    const plot = new uPlot(options, [buffer.times(), buffer.values()], element);
    let drawnVersion = buffer.version;
    let drawnAt = now;
    // What is drawn, for tests and for a curious reader of the DOM.
    const describe = () => {
      element.dataset.points = String(buffer.length);
      element.dataset.last = String(buffer.lastTime() ?? '');
    };
    describe();

    const resize = new ResizeObserver(() => {
      const width = Math.max(element.clientWidth, 100);
      if (width !== plot.width) plot.setSize({ width, height });
    });
    resize.observe(element);

    const stop = onEveryFrame((frameNow) => {
      const msPerPixel = span() / Math.max(plot.bbox.width / devicePixelRatio, 1);
      const slid = frameNow - drawnAt >= Math.max(MIN_SLIDE_INTERVAL_MS, msPerPixel);
      if (buffer.version === drawnVersion && !slid) return;
      drawnVersion = buffer.version;
      drawnAt = frameNow;
      describe();
      plot.batch(() => {
        plot.setData([buffer.times(), buffer.values()], false);
        plot.setScale('x', { min: frameNow - span(), max: frameNow });
      });
    });

    return () => {
      stop();
      resize.disconnect();
      plot.destroy();
    };
  }, [series, windowMs, height, color, label, format, fromZero, themeName]);

  return <div ref={container} class="chart" style={{ height: `${height}px` }} />;
}

/** Room above and below the line, and a visible band for a flat one. */
function paddedRange(min: number | null, max: number | null, fromZero: boolean): uPlot.Range.MinMax {
  if (min === null || max === null) return [0, 1];
  if (fromZero) return [Math.min(0, min), max > 0 ? max * 1.15 : 1];
  if (min === max) {
    const pad = Math.abs(min) * 0.1 || 1;
    return [min - pad, max + pad];
  }
  const pad = (max - min) * 0.12;
  return [min >= 0 && min - pad < 0 ? 0 : min - pad, max + pad];
}

// A 24-hour clock keeps tick labels short and unambiguous without AM/PM.
const SECOND_TICKS = new Intl.DateTimeFormat(undefined, {
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});
const MINUTE_TICKS = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
const DAY_TICKS = new Intl.DateTimeFormat(undefined, { weekday: 'short', day: 'numeric' });

/** Tick labels as short as the window allows: seconds for minutes, clock times for hours, days for a week. */
function timeAxisFormat(windowMs: number): (split: number) => string {
  const format = windowMs <= 10 * 60_000 ? SECOND_TICKS : windowMs <= 2 * 86_400_000 ? MINUTE_TICKS : DAY_TICKS;
  return (split) => format.format(new Date(split));
}

function gradient(plot: uPlot, color: string): CanvasGradient | string {
  const { top, height } = plot.bbox;
  if (!Number.isFinite(top) || height <= 0) return 'transparent';
  const fill = plot.ctx.createLinearGradient(0, top, 0, top + height);
  fill.addColorStop(0, withAlpha(color, 0.24));
  fill.addColorStop(1, withAlpha(color, 0));
  return fill;
}

function withAlpha(hex: string, alpha: number): string {
  const match = hex.match(/^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i);
  if (!match) return hex;
  const [, r, g, b] = match;
  return `rgba(${Number.parseInt(r!, 16)}, ${Number.parseInt(g!, 16)}, ${Number.parseInt(b!, 16)}, ${alpha})`;
}

/** Canvas cannot use CSS variables: the theme's colours are read when the chart is made (again on a theme change). */
function readColors(element: HTMLElement) {
  const style = getComputedStyle(element);
  const read = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
  return {
    text: read('--chart-text', '#64748b'),
    grid: read('--chart-grid', 'rgba(100, 116, 139, 0.15)'),
    surface: read('--surface', '#ffffff'),
    font: `11px ${read('--font-sans', 'sans-serif')}`,
  };
}
