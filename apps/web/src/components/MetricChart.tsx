"use client";
// One time-series graph (uPlot) of a container's samples, with its state changes drawn as marks on
// the same time axis, and a sparkline (uPlot too, without axes). Each carries its newest value as
// data attributes and in words, for tests and screen readers: the canvas is a picture only.
import { useEffect, useMemo, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { StateName } from "@corral/core";
import { useDarkMode } from "@/client/hooks";
import { formatValue, sparkPaths, type Column } from "@/lib/metrics-series";
import { STATE_COLOR } from "@/lib/states";

/** The series' colours, readable on the light and the dark ground. */
/** A sparkline's size in px (as .spark in globals.css). */
const SPARK_W = 48;
const SPARK_H = 18;
const SERIES_COLORS = ["#2f7ae5", "#d9480f", "#2b8a3e", "#9c36b5", "#c2255c", "#0b7285", "#5c940d", "#e67700"];

/** The least top of a graph's scale, by unit. */
const MIN_TOP: Record<string, number> = { "%": 10, bytes: 1024 * 1024, "bytes/s": 1024, "": 4 };

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || "#888";
}

export interface ChartProps {
  id: string;
  title: string;
  unit: string;
  labels: readonly string[];
  data: [number[], ...Column[]];
  /** ms since the epoch */
  from: number;
  to: number;
  marks: ReadonlyArray<{ t: number; state: StateName }>;
  last: number | null;
  /** a line under the title, in words (memory against its limit) */
  note?: string;
  /** join a series' points over the times it has none (several hosts on one axis, each on its own clock) */
  spanGaps?: boolean;
}

export function MetricChart({ id, title, unit, labels, data, from, to, marks, last, note, spanGaps = false }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const marksRef = useRef(marks);
  marksRef.current = marks;
  const dark = useDarkMode();
  const shape = labels.join("|");

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const ink = cssVar("--muted");
    const grid = cssVar("--line-soft");
    const opts: uPlot.Options = {
      width: Math.max(120, el.clientWidth),
      height: 150,
      legend: { show: false },
      cursor: { y: false, points: { show: false } },
      scales: {
        x: { time: true },
        // from 0, and at least a scale whose ticks read well when nothing moves (0 B/s, 512 B/s, 1 KiB/s)
        y: { range: (_u, _min, max) => [0, Math.max(max * 1.1, MIN_TOP[unit] ?? 1)] },
      },
      axes: [
        { stroke: ink, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid } },
        { stroke: ink, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid }, size: 70, values: (_u, vals) => vals.map((v) => formatValue(v, unit)) },
      ],
      series: [{}, ...labels.map((label, i) => ({
        label, stroke: SERIES_COLORS[i % SERIES_COLORS.length], width: 1.5, spanGaps,
        ...(label === "limit" ? { dash: [6, 4] } : {}),
        ...(i === 0 ? { fill: `${SERIES_COLORS[0]}22` } : {}),
      }))],
      hooks: {
        // the timeline's state changes, on the same time axis: a line in the state's colour
        draw: [(u) => {
          const ctx = u.ctx;
          ctx.save();
          ctx.setLineDash([]); // not the limit's dashes
          ctx.lineWidth = 2 * devicePixelRatio;
          for (const m of marksRef.current) {
            const x = u.valToPos(m.t / 1000, "x", true);
            if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
            ctx.strokeStyle = STATE_COLOR[m.state];
            ctx.beginPath();
            ctx.moveTo(x, u.bbox.top);
            ctx.lineTo(x, u.bbox.top + u.bbox.height);
            ctx.stroke();
          }
          ctx.restore();
        }],
      },
    };
    const u = new uPlot(opts, data, el);
    plot.current = u;
    // the graph follows its box's width (the panel, a phone's screen)
    const ro = new ResizeObserver(() => u.setSize({ width: Math.max(120, Math.floor(el.clientWidth)), height: 150 }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
    // the plot is made again only when its shape or the colours change; data and range follow below
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [shape, unit, dark, spanGaps]);

  useEffect(() => {
    const u = plot.current;
    if (!u) return;
    u.setData(data, false);
    u.setScale("x", { min: from / 1000, max: to / 1000 });
  }, [data, from, to, marks]);

  const lastText = formatValue(last, unit);
  return (
    <figure className="metric" data-testid={`metric-${id}`} data-last={last ?? ""} data-points={data[0].length}>
      <figcaption>
        <span className="metric-title">{title}</span> <span className="metric-last" data-testid={`metric-${id}-last`}>{lastText}</span>
        {labels.length > 1 && (
          <span className="metric-keys" aria-hidden>
            {labels.map((l, i) => <span key={l} className="metric-key"><span className="swatch" style={{ background: SERIES_COLORS[i % SERIES_COLORS.length] }} />{l}</span>)}
          </span>
        )}
        {note && <div className="muted small" data-testid={`metric-${id}-note`}>{note}</div>}
      </figcaption>
      <div ref={box} className="metric-plot" aria-hidden />
    </figure>
  );
}

/** A small line of the last minutes (uPlot without axes, cursor or legend). */
export function Sparkline({ xs, ys, label, testId }: { xs: number[]; ys: Column; label: string; testId?: string }) {
  // An SVG path, not a uPlot: a list of a thousand containers mounts a few dozen of these in one
  // frame when their first samples come, and a uPlot each (a canvas, its DOM, its measuring) made
  // that frame last 80 ms.
  const { line, area } = useMemo(() => sparkPaths(xs, ys, SPARK_W, SPARK_H), [xs, ys]);
  const last = ys.at(-1) ?? null;
  return (
    <span className="spark" role="img" aria-label={label} data-testid={testId} data-last={last ?? ""}>
      <svg width={SPARK_W} height={SPARK_H} viewBox={`0 0 ${SPARK_W} ${SPARK_H}`} aria-hidden="true">
        <path d={area} fill={`${SERIES_COLORS[0]}33`} stroke="none" />
        <path d={line} fill="none" stroke={SERIES_COLORS[0]} strokeWidth={1} />
      </svg>
    </span>
  );
}
