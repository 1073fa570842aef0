// A small line chart over time (uPlot). The plot is created once, fed with setData when the samples
// change, resized with its container, and destroyed on unmount.
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import type { Sample } from '../stores/view';

const COLORS = {
  blue: { stroke: '#2563eb', fill: 'rgba(37, 99, 235, 0.10)' },
  red: { stroke: '#dc2626', fill: 'rgba(220, 38, 38, 0.10)' },
} as const;

interface Props {
  samples: Sample[];
  /** What the chart shows, for screen readers. */
  label: string;
  height?: number;
  /** A fixed y range; otherwise from 0 to a little above the largest value. */
  range?: [number, number];
  color?: keyof typeof COLORS;
  /** Formats the y axis' values. */
  formatValue?: (v: number) => string;
  testId?: string;
}

function toData(samples: Sample[]): uPlot.AlignedData {
  let sorted = samples;
  for (let i = 1; i < samples.length; i++) {
    if (samples[i].t < samples[i - 1].t) {
      sorted = [...samples].sort((a, b) => a.t - b.t);
      break;
    }
  }
  return [sorted.map((s) => s.t / 1000), sorted.map((s) => s.v)];
}

export function TimeChart({ samples, label, height = 120, range, color = 'blue', formatValue, testId }: Props) {
  const boxRef = useRef<HTMLDivElement>(null);
  const plotRef = useRef<uPlot | null>(null);
  const samplesRef = useRef(samples);
  samplesRef.current = samples;
  // Options are read once, when the plot is made.
  const initial = useRef({ height, range, color, formatValue });

  useEffect(() => {
    const box = boxRef.current;
    if (!box) return;
    const { height: h, range: r, color: c, formatValue: fmt } = initial.current;
    const axisStroke = '#64748b';
    const grid = { stroke: '#eef1f5', width: 1 };
    const opts: uPlot.Options = {
      width: Math.max(120, box.clientWidth || 300),
      height: h,
      legend: { show: false },
      cursor: { drag: { x: false, y: false }, points: { size: 6 } },
      scales: {
        // No sample, or all at one instant, would give an empty or day-wide range: show a minute.
        x: {
          time: true,
          range: (u, min, max) => {
            const xs = u.data[0];
            if (xs.length === 0) {
              const now = Date.now() / 1000;
              return [now - 60, now];
            }
            const first = xs[0];
            const last = xs[xs.length - 1];
            return last - first < 1 ? [first - 30, last + 30] : [min, max];
          },
        },
        y: {
          range: r
            ? [r[0], r[1]]
            : (_u, _min, max) => [0, max > 0 ? max * 1.15 : 1],
        },
      },
      series: [
        {},
        { label, stroke: COLORS[c].stroke, fill: COLORS[c].fill, width: 1.5, points: { show: (u) => u.data[0].length <= 2, size: 6 } },
      ],
      axes: [
        { stroke: axisStroke, grid, ticks: grid, size: 28, font: '11px system-ui, sans-serif' },
        {
          stroke: axisStroke, grid, ticks: grid, size: 40, font: '11px system-ui, sans-serif',
          values: fmt ? (_u, vals) => vals.map((v) => fmt(v)) : undefined,
        },
      ],
    };
    const plot = new uPlot(opts, toData(samplesRef.current), box);
    plotRef.current = plot;
    const ro = new ResizeObserver((entries) => {
      const w = Math.floor(entries[0]?.contentRect.width ?? 0);
      if (w > 0 && w !== plot.width) plot.setSize({ width: w, height: h });
    });
    ro.observe(box);
    return () => {
      ro.disconnect();
      plot.destroy();
      plotRef.current = null;
    };
    // `label` is only used for the series name; the plot is made once.
  }, []);

  useEffect(() => {
    plotRef.current?.setData(toData(samples));
  }, [samples]);

  return (
    <div className="timechart" role="img" aria-label={label} data-testid={testId} data-samples={samples.length}>
      <div ref={boxRef} className="timechart-plot" />
      {samples.length === 0 && <div className="timechart-empty">No samples yet</div>}
    </div>
  );
}
