"use client";
// The timeline: one lane per container on a shared time axis, drawn on a <canvas>. Only the lanes
// in view are drawn and, per lane, only the events in the visible time range (found by binary
// search), with segments thinner than a pixel merged, so 200 lanes and 50,000 events stay smooth.
// A state is a bar; STARTING is drawn as its phases; a failed start is red and names its step; a
// stop shows its countdown window up to the kill. Hover shows the cause, click pins it.
import { useCallback, useEffect, useRef, useState } from "react";
import type { StateEvent, StateName } from "@corral/core";
import type { DashboardStore } from "@/client/store";
import { PHASE_COLOR, STATE_COLOR } from "@/lib/states";
import { clock, describeEvent, duration } from "@/lib/format";
import { StateChip } from "./StateChip";

export interface Lane {
  id: string;
  agent: string;
  container: string;
  label: string;
  greyed: boolean;
}

interface View {
  /** right edge, ms epoch */
  end: number;
  /** visible span, ms */
  span: number;
  /** the right edge follows now */
  follow: boolean;
}

const AXIS_H = 26;
const LABEL_W = 150;
const MIN_SPAN = 200;
const MAX_SPAN = 1000 * 60 * 60 * 24 * 30;
const RANGES: [string, number][] = [["10s", 10_000], ["1m", 60_000], ["15m", 900_000], ["1h", 3_600_000], ["24h", 86_400_000]];

type Hover = { lane: Lane; event: StateEvent; next?: StateEvent; x: number; y: number };

/**
 * How long the recent draws of each timeline (by test id) took, in ms, for the performance test:
 * window.__corralTimelineDraws[testId]. The newest DRAW_SAMPLES only.
 */
const DRAW_SAMPLES = 1000;
function recordDraw(testId: string, ms: number): void {
  const w = window as unknown as { __corralTimelineDraws?: Record<string, number[]> };
  const all = (w.__corralTimelineDraws ??= {});
  const samples = (all[testId] ??= []);
  samples.push(ms);
  if (samples.length > DRAW_SAMPLES) samples.splice(0, samples.length - DRAW_SAMPLES);
}

function eventsOf(store: DashboardStore, lane: Lane): StateEvent[] {
  return store.agent(lane.agent)?.byContainer.get(lane.container) ?? [];
}

/** Index of the last event at or before t (-1 if none). */
function lastAtOrBefore(events: StateEvent[], t: number): number {
  let lo = 0;
  let hi = events.length - 1;
  let ans = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (events[mid]!.at <= t) (ans = mid), (lo = mid + 1);
    else hi = mid - 1;
  }
  return ans;
}

function niceStep(span: number, px: number): number {
  const target = (span / Math.max(px, 1)) * 110; // a label every ~110 px
  const steps = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000, 7_200_000, 10_800_000, 21_600_000, 43_200_000, 86_400_000];
  return steps.find((s) => s >= target) ?? 86_400_000 * Math.ceil(target / 86_400_000);
}

function axisLabel(t: number, step: number): string {
  const d = new Date(t);
  const hm = `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
  if (step >= 60_000) return hm;
  const hms = `${hm}:${String(d.getSeconds()).padStart(2, "0")}`;
  if (step >= 1000 || d.getMilliseconds() === 0) return hms;
  return `.${String(d.getMilliseconds()).padStart(3, "0")}`;
}

export function TimelineCanvas({
  store,
  lanes,
  laneHeight = 30,
  height,
  live,
  initialSpan = 5 * 60_000,
  onPick,
  testId = "timeline",
  hint = true,
}: {
  store: DashboardStore;
  lanes: Lane[];
  laneHeight?: number;
  /** the viewport's height; lanes beyond it scroll */
  height: number;
  /** false while the stream is reconnecting: the live edge is greyed */
  live: boolean;
  initialSpan?: number;
  onPick?: (lane: Lane, event: StateEvent) => void;
  testId?: string;
  hint?: boolean;
}) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const viewRef = useRef<View>({ end: Date.now() + initialSpan * 0.05, span: initialSpan, follow: true });
  const dirty = useRef(true);
  const drawnEventsVersion = useRef(-1);
  const lanesRef = useRef(lanes);
  const liveRef = useRef(live);
  const hoverRef = useRef<Hover | null>(null);
  const [hover, setHover] = useState<Hover | null>(null);
  const [follow, setFollow] = useState(true);
  const [width, setWidth] = useState(800);
  const drag = useRef<{ x: number; end: number } | null>(null);

  lanesRef.current = lanes;
  liveRef.current = live;
  useEffect(() => {
    dirty.current = true;
  }, [lanes, live, height, laneHeight]);

  // size to the container
  useEffect(() => {
    const el = scrollRef.current;
    if (!el) return;
    const ro = new ResizeObserver(() => {
      setWidth(el.clientWidth);
      dirty.current = true;
    });
    ro.observe(el);
    setWidth(el.clientWidth);
    return () => ro.disconnect();
  }, []);

  const setView = useCallback((v: Partial<View>) => {
    const cur = viewRef.current;
    const next = { ...cur, ...v };
    next.span = Math.min(MAX_SPAN, Math.max(MIN_SPAN, next.span));
    viewRef.current = next;
    setFollow(next.follow);
    dirty.current = true;
  }, []);

  const draw = useCallback(() => {
    const canvas = canvasRef.current;
    const scroller = scrollRef.current;
    if (!canvas || !scroller) return;
    const dpr = window.devicePixelRatio || 1;
    const w = scroller.clientWidth;
    const h = Math.min(height, AXIS_H + lanesRef.current.length * laneHeight + 2);
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(h * dpr);
      canvas.style.width = `${w}px`;
      canvas.style.height = `${h}px`;
    }
    const ctx = canvas.getContext("2d");
    if (!ctx) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const now = Date.now();
    const view = viewRef.current;
    if (view.follow) view.end = now + view.span * 0.04;
    const t0 = view.end - view.span;
    const plotW = w - LABEL_W;
    const xOf = (t: number) => LABEL_W + ((t - t0) / view.span) * plotW;

    ctx.clearRect(0, 0, w, h);
    ctx.font = "12px ui-sans-serif, system-ui, sans-serif";
    ctx.textBaseline = "middle";

    // lanes in view
    const scrollTop = scroller.scrollTop;
    const first = Math.max(0, Math.floor(scrollTop / laneHeight));
    const count = Math.ceil((h - AXIS_H) / laneHeight) + 1;
    const all = lanesRef.current;
    for (let i = first; i < Math.min(all.length, first + count); i++) {
      const lane = all[i]!;
      const y = AXIS_H + i * laneHeight - scrollTop;
      ctx.fillStyle = i % 2 ? "#f7f8fa" : "#ffffff";
      ctx.fillRect(0, y, w, laneHeight);
      drawLane(ctx, lane, eventsOf(store, lane), y, laneHeight, t0, view.end, now, xOf, plotW);
      // label
      ctx.fillStyle = i % 2 ? "#f7f8fa" : "#ffffff";
      ctx.fillRect(0, y, LABEL_W, laneHeight);
      ctx.fillStyle = lane.greyed ? "#a0a7b4" : "#1f2430";
      ctx.fillText(fit(ctx, lane.label, LABEL_W - 14), 8, y + laneHeight / 2);
    }
    ctx.strokeStyle = "#e3e6eb";
    ctx.beginPath();
    ctx.moveTo(LABEL_W + 0.5, AXIS_H);
    ctx.lineTo(LABEL_W + 0.5, h);
    ctx.stroke();

    // the axis
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, w, AXIS_H);
    ctx.strokeStyle = "#d5d9e0";
    ctx.beginPath();
    ctx.moveTo(0, AXIS_H - 0.5);
    ctx.lineTo(w, AXIS_H - 0.5);
    ctx.stroke();
    const step = niceStep(view.span, plotW);
    const tz = new Date().getTimezoneOffset() * 60_000;
    ctx.fillStyle = "#5b6372";
    ctx.textAlign = "center";
    for (let t = Math.ceil((t0 - tz) / step) * step + tz; t <= view.end; t += step) {
      const x = xOf(t);
      if (x < LABEL_W + 20) continue;
      ctx.fillRect(Math.round(x), AXIS_H - 6, 1, 6);
      ctx.fillText(axisLabel(t, step), x, AXIS_H / 2 - 1);
      ctx.fillStyle = "rgba(0,0,0,0.045)";
      ctx.fillRect(Math.round(x), AXIS_H, 1, h - AXIS_H);
      ctx.fillStyle = "#5b6372";
    }
    ctx.textAlign = "left";
    ctx.fillStyle = "#8a94a6";
    ctx.fillText(view.follow ? "live" : "paused", 8, AXIS_H / 2);

    // now, and the live edge greyed while reconnecting
    const xNow = xOf(now);
    if (!liveRef.current) {
      ctx.fillStyle = "rgba(120,128,140,0.28)";
      const from = Math.max(LABEL_W, xNow - 60);
      ctx.fillRect(from, AXIS_H, w - from, h - AXIS_H);
      ctx.fillStyle = "#5b6372";
      ctx.textAlign = "right";
      ctx.fillText("reconnecting…", Math.min(w - 6, xNow - 6), AXIS_H + 10);
      ctx.textAlign = "left";
    }
    if (xNow >= LABEL_W && xNow <= w) {
      ctx.fillStyle = liveRef.current ? "#e5484d" : "#8a94a6";
      ctx.fillRect(Math.round(xNow), AXIS_H - 4, 1.5, h - AXIS_H + 4);
    }
  }, [height, laneHeight, store]);

  // the draw loop: redraw when something changed, and ~15 times a second while following now
  useEffect(() => {
    let raf = 0;
    let lastLive = 0;
    const tick = (ts: number) => {
      const eventsChanged = store.eventsVersion !== drawnEventsVersion.current;
      if (dirty.current || eventsChanged || (viewRef.current.follow && ts - lastLive > 66)) {
        dirty.current = false;
        drawnEventsVersion.current = store.eventsVersion;
        lastLive = ts;
        const t = performance.now();
        draw();
        recordDraw(testId, performance.now() - t);
      }
      raf = requestAnimationFrame(tick);
    };
    raf = requestAnimationFrame(tick);
    return () => cancelAnimationFrame(raf);
  }, [draw, store, testId]);

  const hit = (clientX: number, clientY: number): Hover | null => {
    const canvas = canvasRef.current;
    const scroller = scrollRef.current;
    if (!canvas || !scroller) return null;
    const r = canvas.getBoundingClientRect();
    const x = clientX - r.left;
    const y = clientY - r.top;
    if (y < AXIS_H || x < LABEL_W) return null;
    const i = Math.floor((y - AXIS_H + scroller.scrollTop) / laneHeight);
    const lane = lanesRef.current[i];
    if (!lane) return null;
    const view = viewRef.current;
    const t = view.end - view.span + ((x - LABEL_W) / (r.width - LABEL_W)) * view.span;
    const events = eventsOf(store, lane);
    const k = lastAtOrBefore(events, t);
    // the nearest transition within 6 px wins; else the state the bar under the pointer shows
    const pxPerMs = (r.width - LABEL_W) / view.span;
    let best = k;
    const after = events[k + 1];
    const before = events[k];
    if (after && (after.at - t) * pxPerMs < 6 && (!before || after.at - t < t - before.at)) best = k + 1;
    const e = events[best];
    if (!e) return null;
    return { lane, event: e, next: events[best + 1], x, y };
  };

  const onMove = (ev: React.MouseEvent) => {
    if (drag.current) {
      const r = canvasRef.current!.getBoundingClientRect();
      const dx = ev.clientX - drag.current.x;
      setView({ end: drag.current.end - (dx / (r.width - LABEL_W)) * viewRef.current.span, follow: false });
      return;
    }
    const h = hit(ev.clientX, ev.clientY);
    if (h?.event !== hoverRef.current?.event) {
      hoverRef.current = h;
      setHover(h);
    }
  };

  const onWheel = (ev: React.WheelEvent) => {
    const r = canvasRef.current!.getBoundingClientRect();
    if (ev.ctrlKey || ev.metaKey || ev.altKey) {
      ev.preventDefault();
      const v = viewRef.current;
      const frac = Math.min(1, Math.max(0, (ev.clientX - r.left - LABEL_W) / (r.width - LABEL_W)));
      const tAt = v.end - v.span + frac * v.span;
      const span = Math.min(MAX_SPAN, Math.max(MIN_SPAN, v.span * Math.exp(ev.deltaY * 0.002)));
      const end = tAt + (1 - frac) * span;
      setView({ span, end, follow: v.follow && frac > 0.9 });
    } else if (ev.shiftKey || Math.abs(ev.deltaX) > Math.abs(ev.deltaY)) {
      const d = ev.shiftKey ? ev.deltaY : ev.deltaX;
      setView({ end: viewRef.current.end + (d / (r.width - LABEL_W)) * viewRef.current.span, follow: false });
    }
  };

  // ctrl+wheel must not zoom the page
  useEffect(() => {
    const el = scrollRef.current;
    if (!el) return;
    const block = (e: WheelEvent) => {
      if (e.ctrlKey || e.metaKey || e.altKey) e.preventDefault();
    };
    el.addEventListener("wheel", block, { passive: false });
    return () => el.removeEventListener("wheel", block);
  }, []);

  const zoom = (factor: number) => {
    const v = viewRef.current;
    const span = v.span * factor;
    setView({ span, end: v.follow ? v.end : v.end - (v.span - span) / 2 });
  };

  const fitAll = () => {
    let lo = Infinity;
    let hi = -Infinity;
    for (const lane of lanesRef.current) {
      const ev = eventsOf(store, lane);
      if (ev.length) (lo = Math.min(lo, ev[0]!.at)), (hi = Math.max(hi, ev.at(-1)!.at));
    }
    if (!Number.isFinite(lo)) return;
    const now = Date.now();
    const span = Math.max(MIN_SPAN * 5, Math.max(hi, now) - lo) * 1.06;
    setView({ span, end: lo + span * 0.97, follow: true });
  };

  const totalH = AXIS_H + lanes.length * laneHeight;
  return (
    <div className="timeline" data-testid={testId}>
      <div className="timeline-tools">
        <div className="btn-group">
          {RANGES.map(([label, span]) => (
            <button key={label} className="btn small" onClick={() => setView({ span, follow: true })}>{label}</button>
          ))}
          <button className="btn small" onClick={fitAll} data-testid="timeline-all">All</button>
        </div>
        <div className="btn-group">
          <button className="btn small" onClick={() => zoom(0.5)} aria-label="zoom in" title="zoom in">+</button>
          <button className="btn small" onClick={() => zoom(2)} aria-label="zoom out" title="zoom out">&minus;</button>
        </div>
        <button
          className={`btn small ${follow ? "on" : ""}`}
          data-testid="follow-live"
          aria-pressed={follow}
          onClick={() => setView({ follow: !follow })}
        >
          {follow ? "● Following now" : "Follow now"}
        </button>
        {hint && <span className="hint">drag to pan · ctrl + wheel to zoom · click a tick for its cause</span>}
      </div>
      <div
        ref={scrollRef}
        className="timeline-scroll"
        style={{ height: Math.min(height, totalH + 2) }}
        onScroll={() => (dirty.current = true)}
        onWheel={onWheel}
      >
        <div style={{ height: totalH, position: "relative" }}>
          <canvas
            ref={canvasRef}
            className="timeline-canvas"
            data-testid={`${testId}-canvas`}
            onMouseMove={onMove}
            onMouseLeave={() => {
              drag.current = null;
              hoverRef.current = null;
              setHover(null);
            }}
            onMouseDown={(ev) => (drag.current = { x: ev.clientX, end: viewRef.current.end })}
            onMouseUp={(ev) => {
              const moved = drag.current && Math.abs(ev.clientX - drag.current.x) > 3;
              drag.current = null;
              if (!moved) {
                const h = hit(ev.clientX, ev.clientY);
                if (h) onPick?.(h.lane, h.event);
              }
            }}
          />
          {hover && <Tooltip hover={hover} scrollTop={scrollRef.current?.scrollTop ?? 0} width={width} />}
        </div>
      </div>
    </div>
  );
}

function Tooltip({ hover, scrollTop, width }: { hover: Hover; scrollTop: number; width: number }) {
  const { summary, details } = describeEvent(hover.event);
  const lasted = hover.next ? hover.next.at - hover.event.at : undefined;
  const left = Math.min(hover.x + 14, width - 330);
  return (
    <div className="tooltip" data-testid="timeline-tooltip" style={{ left, top: hover.y + scrollTop + 12 }}>
      <div className="tooltip-head">
        <StateChip state={hover.event.state} testId="tooltip-state" />
        <strong>{hover.lane.label}</strong>
        <span className="muted">{clock(hover.event.at)}</span>
      </div>
      <div>{summary}</div>
      {details.map((d) => (
        <div key={d} className="muted small">{d}</div>
      ))}
      {lasted !== undefined && <div className="muted small">lasted {duration(lasted)}</div>}
    </div>
  );
}

function fit(ctx: CanvasRenderingContext2D, text: string, max: number): string {
  if (ctx.measureText(text).width <= max) return text;
  let t = text;
  while (t.length > 1 && ctx.measureText(`${t}…`).width > max) t = t.slice(0, -1);
  return `${t}…`;
}

type Detail = { killAt?: number; timeoutMs?: number; error?: { step: string; message: string }; phases?: { name: string; ms: number }[] };

function drawLane(
  ctx: CanvasRenderingContext2D,
  lane: Lane,
  events: StateEvent[],
  y: number,
  h: number,
  t0: number,
  t1: number,
  now: number,
  xOf: (t: number) => number,
  plotW: number,
): void {
  if (!events.length) return;
  const start = Math.max(0, lastAtOrBefore(events, t0));
  const barY = y + 5;
  const barH = h - 10;
  let lastPx = -1;
  let lastTickPx = -10;
  for (let i = start; i < events.length; i++) {
    const e = events[i]!;
    if (e.at > t1) break;
    const next = events[i + 1];
    const endT = next ? next.at : now;
    const x0 = Math.max(xOf(e.at), xOf(t0));
    const x1 = Math.min(xOf(endT), xOf(t1));
    const state: StateName = e.state;
    const wpx = x1 - x0;
    // merge what falls inside an already drawn pixel, unless it is a failure
    const px = Math.floor(x1);
    if (px <= lastPx && state !== "ABORTING") continue;
    lastPx = px;
    const colour = lane.greyed ? "#c4c9d2" : STATE_COLOR[state];
    if (state === "STOPPED") {
      ctx.fillStyle = lane.greyed ? "#d8dce3" : "#c9ced8";
      ctx.fillRect(x0, y + h / 2 - 1, Math.max(wpx, 1), 2);
    } else if (state === "STARTING" && next?.state === "RUNNING" && (next.detail as Detail).phases?.length && wpx > 14 && !lane.greyed) {
      const phases = (next.detail as Detail).phases!;
      const total = phases.reduce((s, p) => s + p.ms, 0) || 1;
      let x = x0;
      for (const p of phases) {
        const pw = (p.ms / total) * wpx;
        ctx.fillStyle = PHASE_COLOR[p.name] ?? STATE_COLOR.STARTING;
        ctx.fillRect(x, barY, Math.max(pw, 0.5), barH);
        if (pw > 40) {
          ctx.fillStyle = "#ffffff";
          ctx.fillText(fit(ctx, p.name, pw - 6), x + 3, barY + barH / 2);
        }
        x += pw;
      }
    } else {
      ctx.fillStyle = colour;
      ctx.fillRect(x0, barY, Math.max(wpx, state === "ABORTING" ? 2 : 1), barH);
    }
    const d = e.detail as Detail;
    // a requested stop: the countdown window from the halt signal to the kill
    if (state === "STOPPING" && d.killAt !== undefined && d.killAt > e.at && !lane.greyed && xOf(d.killAt) - xOf(e.at) > 8) {
      const kx = xOf(d.killAt);
      ctx.strokeStyle = "#b7791f";
      ctx.setLineDash([3, 3]);
      ctx.strokeRect(xOf(e.at) + 0.5, barY + 0.5, Math.max(1, kx - xOf(e.at)), barH - 1);
      ctx.setLineDash([]);
      if (kx > xOf(t0) && kx < xOf(t1)) {
        ctx.fillStyle = "#8a5a00";
        ctx.fillRect(kx - 1, barY, 2, barH);
        if (kx - xOf(e.at) > 56) {
          ctx.textAlign = "right";
          ctx.fillText("kill ▸", kx - 4, barY + barH / 2);
          ctx.textAlign = "left";
        }
      }
    }
    // a failed start: red, with the step that failed
    if (state === "ABORTING" && d.error && !lane.greyed) {
      ctx.fillStyle = STATE_COLOR.ABORTING;
      ctx.beginPath();
      ctx.moveTo(x0, barY - 3);
      ctx.lineTo(x0 + 5, barY - 3);
      ctx.lineTo(x0, barY + 4);
      ctx.fill();
      const label = `failed at ${d.error.step}`;
      const room = Math.min(plotW, (next ? xOf(events[i + 2]?.at ?? now) : xOf(now)) - x0);
      if (room > 70) {
        ctx.font = "600 11px ui-sans-serif, system-ui, sans-serif";
        const text = fit(ctx, label, room - 10);
        ctx.fillStyle = "#fdecea";
        ctx.fillRect(x0 + 4, barY + 1, ctx.measureText(text).width + 6, barH - 2);
        ctx.fillStyle = "#b42318";
        ctx.fillText(text, x0 + 7, barY + barH / 2);
        ctx.font = "12px ui-sans-serif, system-ui, sans-serif";
      }
    }
    // the transition tick
    const tx = xOf(e.at);
    if (tx >= xOf(t0) && tx - lastTickPx >= 3) {
      ctx.fillStyle = "rgba(20,24,32,0.55)";
      ctx.fillRect(Math.round(tx), y + 2, 1, h - 4);
      lastTickPx = tx;
    }
  }
}
