"use client";
// The timeline: one lane per container on a shared time axis, drawn on a <canvas>. Only the lanes
// in view are drawn and, per lane, only the events in the visible time range (found by binary
// search), with segments thinner than a pixel merged, so 200 lanes and 50,000 events stay smooth.
// Geometry is lib/timeline/scale.ts, painting lib/timeline/paint.ts; this component holds the
// view, the draw loop, and pan, zoom, hover and pick. Hover shows the cause, click pins it.
import { useCallback, useEffect, useRef, useState, type KeyboardEvent } from "react";
import type { StateEvent } from "@corral/core";
import type { DashboardStore } from "@/client/store";
import { clock, describeEvent, duration } from "@/lib/format";
import { recordDraw } from "@/lib/timeline/draw-log";
import { paintTimeline, paletteFor } from "@/lib/timeline/paint";
import type { TimeRange } from "@/lib/view-url";
import { useDarkMode } from "@/client/hooks";
import { AXIS_H, eventAt, fitAll, followNow, laneAt, LABEL_W, panBy, RANGES, timeAt, visibleLanes, withView, zoomAt, zoomBy, type View } from "@/lib/timeline/scale";
import { StateChip } from "./StateChip";

export interface Lane {
  id: string;
  agent: string;
  container: string;
  label: string;
  greyed: boolean;
}

type Hover = { lane: Lane; event: StateEvent; next?: StateEvent; x: number; y: number };

function eventsOf(store: DashboardStore, lane: Lane): StateEvent[] {
  return store.agent(lane.agent)?.byContainer.get(lane.container) ?? [];
}

export function TimelineCanvas({
  store,
  lanes,
  laneHeight = 30,
  height,
  live,
  initialSpan = 5 * 60_000,
  initialRange,
  onRangeChange,
  onPick,
  testId = "timeline",
  hint = true,
  describedBy,
  selectedLane,
}: {
  store: DashboardStore;
  lanes: Lane[];
  laneHeight?: number;
  /** the viewport's height; lanes beyond it scroll */
  height: number;
  /** false while the stream is reconnecting: the live edge is greyed */
  live: boolean;
  initialSpan?: number;
  /** the range to open on (from the URL); without an end, it follows now */
  initialRange?: TimeRange;
  /** the operator moved the view (told once the moving settles) */
  onRangeChange?: (r: TimeRange) => void;
  onPick?: (lane: Lane, event: StateEvent) => void;
  testId?: string;
  hint?: boolean;
  /** the id of what says, in words, what the canvas shows */
  describedBy?: string;
  /** the id of the lane listed in words, drawn highlighted */
  selectedLane?: string;
}) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const viewRef = useRef<View>(
    initialRange?.end !== undefined
      ? withView({ end: initialRange.end, span: initialRange.span, follow: false }, {})
      : withView({ end: Date.now(), span: initialRange?.span ?? initialSpan, follow: true }, {}),
  );
  const dark = useDarkMode();
  const darkRef = useRef(dark);
  const rangeTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const onRangeRef = useRef(onRangeChange);
  const dirty = useRef(true);
  const drawnEventsVersion = useRef(-1);
  /** what the lanes in view held when last drawn (shownEvents) */
  const drawnShown = useRef("");
  const lanesRef = useRef(lanes);
  const liveRef = useRef(live);
  const hoverRef = useRef<Hover | null>(null);
  const [hover, setHover] = useState<Hover | null>(null);
  const [follow, setFollow] = useState(true);
  const [width, setWidth] = useState(800);
  const drag = useRef<{ x: number; end: number } | null>(null);

  lanesRef.current = lanes;
  liveRef.current = live;
  const selectedRef = useRef(selectedLane);
  selectedRef.current = selectedLane;
  darkRef.current = dark;
  onRangeRef.current = onRangeChange;
  useEffect(() => {
    dirty.current = true;
  }, [lanes, live, height, laneHeight, dark, selectedLane]);
  useEffect(() => () => clearTimeout(rangeTimer.current), []);

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
    viewRef.current = withView(viewRef.current, v);
    setFollow(viewRef.current.follow);
    dirty.current = true;
    // the URL keeps the range; written once a drag or a wheel settles, not on every frame
    clearTimeout(rangeTimer.current);
    rangeTimer.current = setTimeout(() => {
      const { span, end, follow } = viewRef.current;
      onRangeRef.current?.(follow ? { span } : { span, end });
    }, 300);
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
    viewRef.current = followNow(viewRef.current, now);
    // the view's span and mode, for tests and tools that read the page (no re-render)
    const root = scroller.parentElement;
    if (root && root.dataset.span !== String(viewRef.current.span)) root.dataset.span = String(viewRef.current.span);
    if (root && root.dataset.follow !== String(viewRef.current.follow)) root.dataset.follow = String(viewRef.current.follow);
    const lanes = lanesRef.current;
    paintTimeline(ctx, {
      width: w,
      height: h,
      view: viewRef.current,
      now,
      live: liveRef.current,
      scrollTop: scroller.scrollTop,
      laneHeight,
      laneCount: lanes.length,
      palette: paletteFor(darkRef.current),
      lane: (i) => ({ label: lanes[i]!.label, greyed: lanes[i]!.greyed, selected: lanes[i]!.id === selectedRef.current, events: eventsOf(store, lanes[i]!) }),
    });
  }, [height, laneHeight, store]);

  /**
   * The events of the lanes in view, in short: their count and their last seqs, summed. An event in
   * a lane out of view (most of them, with a thousand lanes) then leaves the canvas as it is.
   */
  const shownEvents = useCallback((): string => {
    const scroller = scrollRef.current;
    const lanes = lanesRef.current;
    if (!scroller) return "";
    const { first, end } = visibleLanes(scroller.scrollTop, height, laneHeight, lanes.length);
    let count = 0;
    let seqs = 0;
    for (let i = first; i < end; i++) {
      const events = eventsOf(store, lanes[i]!);
      count += events.length;
      seqs += events.at(-1)?.seq ?? 0;
    }
    return `${first}:${end}:${count}:${seqs}`;
  }, [height, laneHeight, store]);

  // the draw loop: redraw when something changed, and ~15 times a second while following now
  useEffect(() => {
    let raf = 0;
    let lastLive = 0;
    const tick = (ts: number) => {
      let eventsChanged = false;
      if (store.eventsVersion !== drawnEventsVersion.current) {
        drawnEventsVersion.current = store.eventsVersion;
        eventsChanged = shownEvents() !== drawnShown.current;
      }
      if (dirty.current || eventsChanged || (viewRef.current.follow && ts - lastLive > 66)) {
        dirty.current = false;
        drawnShown.current = shownEvents();
        lastLive = ts;
        const t = performance.now();
        draw();
        recordDraw(testId, performance.now() - t);
      }
      raf = requestAnimationFrame(tick);
    };
    raf = requestAnimationFrame(tick);
    return () => cancelAnimationFrame(raf);
  }, [draw, shownEvents, store, testId]);

  const hit = (clientX: number, clientY: number): Hover | null => {
    const canvas = canvasRef.current;
    const scroller = scrollRef.current;
    if (!canvas || !scroller) return null;
    const r = canvas.getBoundingClientRect();
    const x = clientX - r.left;
    const y = clientY - r.top;
    if (x < LABEL_W) return null;
    const lane = lanesRef.current[laneAt(y, scroller.scrollTop, laneHeight)];
    if (!lane) return null;
    const plotW = r.width - LABEL_W;
    const events = eventsOf(store, lane);
    const best = eventAt(events, timeAt(viewRef.current, x, plotW), plotW / viewRef.current.span);
    const e = events[best];
    return e ? { lane, event: e, next: events[best + 1], x, y } : null;
  };

  const onMove = (ev: React.MouseEvent) => {
    if (drag.current) {
      const r = canvasRef.current!.getBoundingClientRect();
      setView(panBy(viewRef.current, drag.current.end, ev.clientX - drag.current.x, r.width - LABEL_W));
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
      setView(zoomAt(viewRef.current, (ev.clientX - r.left - LABEL_W) / (r.width - LABEL_W), ev.deltaY));
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

  const zoom = (factor: number) => setView(zoomBy(viewRef.current, factor));

  // the keyboard's pan and zoom, on the focusable plot: arrows pan a tenth, + and - zoom, Home follows now
  const onKey = (e: KeyboardEvent) => {
    const v = viewRef.current;
    if (e.key === "ArrowLeft" || e.key === "ArrowRight") setView({ end: v.end + (e.key === "ArrowLeft" ? -0.1 : 0.1) * v.span, follow: false });
    else if (e.key === "+" || e.key === "=") zoom(0.5);
    else if (e.key === "-") zoom(2);
    else if (e.key === "Home") setView({ follow: true });
    else return;
    e.preventDefault();
  };

  const showAll = () => {
    let lo = Infinity;
    let hi = -Infinity;
    for (const lane of lanesRef.current) {
      const ev = eventsOf(store, lane);
      if (!ev.length) continue;
      lo = Math.min(lo, ev[0]!.at);
      hi = Math.max(hi, ev.at(-1)!.at);
    }
    if (Number.isFinite(lo)) setView(fitAll(lo, hi, Date.now()));
  };

  const totalH = AXIS_H + lanes.length * laneHeight;
  return (
    <div className="timeline" data-testid={testId}>
      <div className="timeline-tools">
        <div className="btn-group">
          {RANGES.map(([label, span]) => (
            <button key={label} className="btn small" onClick={() => setView({ span, follow: true })} aria-label={`last ${label}`} data-testid={`range-${label}`}>{label}</button>
          ))}
          <button className="btn small" onClick={showAll} data-testid="timeline-all">All</button>
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
        {hint && <span className="hint">drag or ← → to pan · ctrl + wheel or + − to zoom · click a tick for its cause</span>}
      </div>
      <div
        ref={scrollRef}
        className="timeline-scroll"
        style={{ height: Math.min(height, totalH + 2) }}
        onScroll={() => (dirty.current = true)}
        onWheel={onWheel}
        onKeyDown={onKey}
        tabIndex={0}
        role="group"
        aria-label={`${testId === "host-timeline" ? "timeline of every container" : "timeline"}: arrow keys pan, + and − zoom, Home follows now`}
        aria-describedby={describedBy}
        data-testid={`${testId}-plot`}
      >
        <div style={{ height: totalH, position: "relative" }}>
          <canvas
            ref={canvasRef}
            className="timeline-canvas"
            data-testid={`${testId}-canvas`}
            aria-hidden
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
