// Painting the timeline on a 2D canvas: lanes (a bar per state, STARTING as its phases, a stop's
// countdown window, a failed start in red with its step), the axis, and now. Geometry comes from
// scale.ts; every colour is named in a Palette, light or dark (the page's prefers-color-scheme).
import type { StateEvent, StateName } from "@corral/core";
import { PHASE_COLOR, STATE_COLOR } from "@/lib/states";
import { AXIS_H, axisLabel, axisTicks, LABEL_W, lastAtOrBefore, niceStep, visibleLanes, xScale, type View } from "./scale";

export const LIGHT_PALETTE = {
  laneEven: "#ffffff",
  laneOdd: "#f7f8fa",
  laneSelected: "#e3ecfd",
  label: "#1f2430",
  labelGreyed: "#a0a7b4",
  labelRule: "#e3e6eb",
  axisBackground: "#ffffff",
  axisRule: "#d5d9e0",
  axisText: "#5b6372",
  gridLine: "rgba(0,0,0,0.045)",
  modeText: "#8a94a6",
  reconnectingShade: "rgba(120,128,140,0.28)",
  now: "#e5484d",
  nowGreyed: "#8a94a6",
  barGreyed: "#c4c9d2",
  stoppedLine: "#c9ced8",
  stoppedLineGreyed: "#d8dce3",
  phaseText: "#ffffff",
  countdown: "#b7791f",
  kill: "#8a5a00",
  failureBackground: "#fdecea",
  failureText: "#b42318",
  tick: "rgba(20,24,32,0.55)",
};

export type Palette = typeof LIGHT_PALETTE;

/** The same marks on a dark page: the state colours stay, the ground and the ink turn. */
export const DARK_PALETTE: Palette = {
  laneEven: "#161b22",
  laneOdd: "#1b212a",
  laneSelected: "#1c2a44",
  label: "#e2e8f0",
  labelGreyed: "#6b7484",
  labelRule: "#2d3540",
  axisBackground: "#161b22",
  axisRule: "#3a4350",
  axisText: "#a7b1c0",
  gridLine: "rgba(255,255,255,0.06)",
  modeText: "#8a94a6",
  reconnectingShade: "rgba(0,0,0,0.35)",
  now: "#ff6b6f",
  nowGreyed: "#6b7484",
  barGreyed: "#3a4350",
  stoppedLine: "#5b6677",
  stoppedLineGreyed: "#3a4350",
  phaseText: "#ffffff",
  countdown: "#f0b429",
  kill: "#f7c948",
  failureBackground: "#3b1614",
  failureText: "#ff9b94",
  tick: "rgba(235,240,248,0.6)",
};

export function paletteFor(dark: boolean): Palette {
  return dark ? DARK_PALETTE : LIGHT_PALETTE;
}

const FONT = "12px ui-sans-serif, system-ui, sans-serif";
const FAILURE_FONT = "600 11px ui-sans-serif, system-ui, sans-serif";

export interface PaintLane {
  label: string;
  greyed: boolean;
  /** the lane whose events are listed in words beside the canvas */
  selected?: boolean;
  events: readonly StateEvent[];
}

export interface Frame {
  /** canvas size in CSS pixels */
  width: number;
  height: number;
  view: View;
  now: number;
  /** false while the stream reconnects: the live edge is greyed */
  live: boolean;
  scrollTop: number;
  laneHeight: number;
  laneCount: number;
  /** the lane at an index, with its events */
  lane(index: number): PaintLane;
  palette?: Palette;
}

export function paintTimeline(ctx: CanvasRenderingContext2D, f: Frame): void {
  const p = f.palette ?? LIGHT_PALETTE;
  const plotW = f.width - LABEL_W;
  const xOf = xScale(f.view, plotW);
  ctx.clearRect(0, 0, f.width, f.height);
  ctx.font = FONT;
  ctx.textBaseline = "middle";
  const { first, end } = visibleLanes(f.scrollTop, f.height, f.laneHeight, f.laneCount);
  for (let i = first; i < end; i++) {
    const lane = f.lane(i);
    const y = AXIS_H + i * f.laneHeight - f.scrollTop;
    const background = lane.selected ? p.laneSelected : i % 2 ? p.laneOdd : p.laneEven;
    ctx.fillStyle = background;
    ctx.fillRect(0, y, f.width, f.laneHeight);
    paintLane(ctx, lane, y, f.laneHeight, f.view, f.now, xOf, plotW, p);
    ctx.fillStyle = background;
    ctx.fillRect(0, y, LABEL_W, f.laneHeight);
    ctx.fillStyle = lane.greyed ? p.labelGreyed : p.label;
    ctx.fillText(fit(ctx, lane.label, LABEL_W - 14), 8, y + f.laneHeight / 2);
  }
  ctx.strokeStyle = p.labelRule;
  ctx.beginPath();
  ctx.moveTo(LABEL_W + 0.5, AXIS_H);
  ctx.lineTo(LABEL_W + 0.5, f.height);
  ctx.stroke();
  paintAxis(ctx, f, xOf, plotW);
  paintNow(ctx, f, xOf);
}

function paintAxis(ctx: CanvasRenderingContext2D, f: Frame, xOf: (t: number) => number, plotW: number): void {
  const p = f.palette ?? LIGHT_PALETTE;
  ctx.fillStyle = p.axisBackground;
  ctx.fillRect(0, 0, f.width, AXIS_H);
  ctx.strokeStyle = p.axisRule;
  ctx.beginPath();
  ctx.moveTo(0, AXIS_H - 0.5);
  ctx.lineTo(f.width, AXIS_H - 0.5);
  ctx.stroke();
  const step = niceStep(f.view.span, plotW);
  ctx.textAlign = "center";
  for (const t of axisTicks(f.view.end - f.view.span, f.view.end, step, new Date().getTimezoneOffset() * 60_000)) {
    const x = xOf(t);
    if (x < LABEL_W + 20) continue;
    ctx.fillStyle = p.axisText;
    ctx.fillRect(Math.round(x), AXIS_H - 6, 1, 6);
    ctx.fillText(axisLabel(t, step), x, AXIS_H / 2 - 1);
    ctx.fillStyle = p.gridLine;
    ctx.fillRect(Math.round(x), AXIS_H, 1, f.height - AXIS_H);
  }
  ctx.textAlign = "left";
  ctx.fillStyle = p.modeText;
  ctx.fillText(f.view.follow ? "live" : "paused", 8, AXIS_H / 2);
}

/** Now, and the live edge greyed while the stream reconnects. */
function paintNow(ctx: CanvasRenderingContext2D, f: Frame, xOf: (t: number) => number): void {
  const p = f.palette ?? LIGHT_PALETTE;
  const xNow = xOf(f.now);
  if (!f.live) {
    ctx.fillStyle = p.reconnectingShade;
    const from = Math.max(LABEL_W, xNow - 60);
    ctx.fillRect(from, AXIS_H, f.width - from, f.height - AXIS_H);
    ctx.fillStyle = p.axisText;
    ctx.textAlign = "right";
    ctx.fillText("reconnecting…", Math.min(f.width - 6, xNow - 6), AXIS_H + 10);
    ctx.textAlign = "left";
  }
  if (xNow >= LABEL_W && xNow <= f.width) {
    ctx.fillStyle = f.live ? p.now : p.nowGreyed;
    ctx.fillRect(Math.round(xNow), AXIS_H - 4, 1.5, f.height - AXIS_H + 4);
  }
}

/** `text`, cut with an ellipsis to fit `max` pixels. */
export function fit(ctx: CanvasRenderingContext2D, text: string, max: number): string {
  if (ctx.measureText(text).width <= max) return text;
  let t = text;
  while (t.length > 1 && ctx.measureText(`${t}…`).width > max) t = t.slice(0, -1);
  return `${t}…`;
}

/** One lane: only the events in view, segments thinner than a pixel merged (but never a failure). */
function paintLane(ctx: CanvasRenderingContext2D, lane: PaintLane, y: number, h: number, view: View, now: number, xOf: (t: number) => number, plotW: number, p: Palette): void {
  const events = lane.events;
  if (!events.length) return;
  const t0 = view.end - view.span;
  const bar = { y: y + 5, h: h - 10 };
  let lastPx = -1;
  let lastTickPx = -10;
  for (let i = Math.max(0, lastAtOrBefore(events, t0)); i < events.length; i++) {
    const e = events[i]!;
    if (e.at > view.end) break;
    const next = events[i + 1];
    const x0 = Math.max(xOf(e.at), xOf(t0));
    const x1 = Math.min(xOf(next ? next.at : now), xOf(view.end));
    const px = Math.floor(x1);
    if (px <= lastPx && e.state !== "ABORTING") continue;
    lastPx = px;
    paintState(ctx, lane.greyed, e.state, next, x0, x1 - x0, y, h, bar, p);
    if (!lane.greyed) {
      paintCountdown(ctx, e, bar, xOf, t0, view.end, p);
      const room = Math.min(plotW, (next ? xOf(events[i + 2]?.at ?? now) : xOf(now)) - x0);
      paintFailure(ctx, e, x0, room, bar, p);
    }
    // the transition tick
    const tx = xOf(e.at);
    if (tx >= xOf(t0) && tx - lastTickPx >= 3) {
      ctx.fillStyle = p.tick;
      ctx.fillRect(Math.round(tx), y + 2, 1, h - 4);
      lastTickPx = tx;
    }
  }
}

type Bar = { y: number; h: number };

/** A state's bar: a thin line for STOPPED, STARTING as its timed phases when they fit. */
function paintState(ctx: CanvasRenderingContext2D, greyed: boolean, state: StateName, next: StateEvent | undefined, x0: number, wpx: number, y: number, h: number, bar: Bar, p: Palette): void {
  const phases = next?.detail.phases;
  if (state === "STOPPED") {
    ctx.fillStyle = greyed ? p.stoppedLineGreyed : p.stoppedLine;
    ctx.fillRect(x0, y + h / 2 - 1, Math.max(wpx, 1), 2);
  } else if (state === "STARTING" && next?.state === "RUNNING" && phases?.length && wpx > 14 && !greyed) {
    const total = phases.reduce((s, phase) => s + phase.ms, 0) || 1;
    let x = x0;
    for (const phase of phases) {
      const pw = (phase.ms / total) * wpx;
      ctx.fillStyle = PHASE_COLOR[phase.name] ?? STATE_COLOR.STARTING;
      ctx.fillRect(x, bar.y, Math.max(pw, 0.5), bar.h);
      if (pw > 40) {
        ctx.fillStyle = p.phaseText;
        ctx.fillText(fit(ctx, phase.name, pw - 6), x + 3, bar.y + bar.h / 2);
      }
      x += pw;
    }
  } else {
    ctx.fillStyle = greyed ? p.barGreyed : STATE_COLOR[state];
    ctx.fillRect(x0, bar.y, Math.max(wpx, state === "ABORTING" ? 2 : 1), bar.h);
  }
}

/** A requested stop: the countdown window from the halt signal to the kill. */
function paintCountdown(ctx: CanvasRenderingContext2D, e: StateEvent, bar: Bar, xOf: (t: number) => number, t0: number, t1: number, p: Palette): void {
  const killAt = e.detail.killAt;
  if (e.state !== "STOPPING" || killAt === undefined || killAt <= e.at || xOf(killAt) - xOf(e.at) <= 8) return;
  const kx = xOf(killAt);
  ctx.strokeStyle = p.countdown;
  ctx.setLineDash([3, 3]);
  ctx.strokeRect(xOf(e.at) + 0.5, bar.y + 0.5, Math.max(1, kx - xOf(e.at)), bar.h - 1);
  ctx.setLineDash([]);
  if (kx <= xOf(t0) || kx >= xOf(t1)) return;
  ctx.fillStyle = p.kill;
  ctx.fillRect(kx - 1, bar.y, 2, bar.h);
  if (kx - xOf(e.at) > 56) {
    ctx.textAlign = "right";
    ctx.fillText("kill ▸", kx - 4, bar.y + bar.h / 2);
    ctx.textAlign = "left";
  }
}

/** A failed start: a red flag, and the step that failed where there is room to say it. */
function paintFailure(ctx: CanvasRenderingContext2D, e: StateEvent, x0: number, room: number, bar: Bar, p: Palette): void {
  const error = e.detail.error;
  if (e.state !== "ABORTING" || !error) return;
  ctx.fillStyle = STATE_COLOR.ABORTING;
  ctx.beginPath();
  ctx.moveTo(x0, bar.y - 3);
  ctx.lineTo(x0 + 5, bar.y - 3);
  ctx.lineTo(x0, bar.y + 4);
  ctx.fill();
  if (room <= 70) return;
  ctx.font = FAILURE_FONT;
  const text = fit(ctx, `failed at ${error.step}`, room - 10);
  ctx.fillStyle = p.failureBackground;
  ctx.fillRect(x0 + 4, bar.y + 1, ctx.measureText(text).width + 6, bar.h - 2);
  ctx.fillStyle = p.failureText;
  ctx.fillText(text, x0 + 7, bar.y + bar.h / 2);
  ctx.font = FONT;
}
