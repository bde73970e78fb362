"use client";
// The container list's rows (ContainerList.tsx): one container's row, the spacers that stand for
// the rows not drawn, and the hooks that say which rows to draw (lib/row-window.ts) and in what
// order, by key.
import { memo, useCallback, useLayoutEffect, useRef, useState, type KeyboardEvent } from "react";
import type { ContainerSummary, Sample } from "@corral/core";
import { exitShort, uptime } from "@/lib/format";
import { rowWindow, type RowWindow } from "@/lib/row-window";
import { StateChip } from "./StateChip";
import { CpuCell } from "./MetricsCells";

const NO_SAMPLES: Sample[] = [];

export const key = (agent: string, name: string) => `${agent}/${name}`;

/** What a row does, the same object for every row and every render (see `actions` above). */
export interface RowActions {
  open(agent: string, name: string): void;
  toggle(k: string): void;
  keyDown(e: KeyboardEvent, agent: string, name: string): void;
  register(k: string, el: HTMLTableRowElement | null): void;
}

/** One container's row; rendered again only when one of its props changes (memo). */
export const Row = memo(function Row({
  agent,
  c,
  now,
  greyed,
  checked,
  selected,
  tabbable,
  rowIndex,
  actions,
  failedStep,
  samples,
}: {
  agent: string;
  c: ContainerSummary;
  now: number;
  greyed: boolean;
  checked: boolean;
  selected: boolean;
  tabbable: boolean;
  rowIndex: number;
  actions: RowActions;
  failedStep?: string;
  samples: Sample[];
}) {
  const k = key(agent, c.name);
  const rowRef = useCallback((el: HTMLTableRowElement | null) => actions.register(k, el), [actions, k]);
  return (
    <tr
      className={`crow ${selected ? "selected" : ""}`}
      data-testid={`row-${c.name}`}
      data-state={c.state}
      ref={rowRef}
      onClick={() => actions.open(agent, c.name)}
      onKeyDown={(e) => actions.keyDown(e, agent, c.name)}
      tabIndex={tabbable ? 0 : -1}
      aria-selected={selected}
      aria-rowindex={rowIndex}
      aria-label={`${c.name}, ${c.state}`}
    >
      <td className="w-check" onClick={(e) => e.stopPropagation()}>
        <input type="checkbox" tabIndex={-1} checked={checked} onChange={() => actions.toggle(k)} data-testid={`check-${c.name}`} aria-label={`check ${c.name}`} />
      </td>
      <td>
        <StateChip state={c.state} greyed={greyed} />
      </td>
      <td className="name">
        {c.name}
        {c.privileged && <span className="tag refused" data-testid="privileged" title="root inside is root on the host (no lxc.idmap)">privileged</span>}
        {c.restart?.flapping && <span className="bad flapping" data-testid="flapping" title={`stopped abnormally again and again: ${c.restart.restarts} restarts in a row`}> flapping</span>}
      </td>
      <td className="num" data-testid="uptime">{uptime(c.startedAt, now, c.state)}</td>
      <td className="num" data-testid="pid">{c.pid ?? "-"}</td>
      <td className="mono">{c.ips.join(", ") || "-"}</td>
      <td data-testid="last-exit" className={failedStep ? "bad" : ""} title={c.lastError}>
        {failedStep ? `failed at ${failedStep}` : c.lastExit ? exitShort(c.lastExit.status, c.lastExit.code) : "-"}
      </td>
      <CpuCell name={c.name} samples={c.state === "STOPPED" ? NO_SAMPLES : samples} />
    </tr>
  );
});

/**
 * Every row's key, and each key's flat index among all rows: made again only when a group's rows
 * (the array) or position changed, not for each event (a thousand keys each frame otherwise).
 */
export function useRowKeys(groups: ReadonlyArray<{ agent: { name: string }; rows: readonly ContainerSummary[]; at: number }>): { visibleKeys: string[]; indexOf: Map<string, number> } {
  const cache = useRef<{ from: Array<{ rows: readonly ContainerSummary[]; at: number }>; visibleKeys: string[]; indexOf: Map<string, number> } | null>(null);
  const was = cache.current;
  if (was && was.from.length === groups.length && groups.every((g, i) => g.rows === was.from[i]!.rows && g.at === was.from[i]!.at)) return was;
  const visibleKeys: string[] = [];
  const indexOf = new Map<string, number>();
  for (const g of groups) {
    g.rows.forEach((c, i) => {
      const k = key(g.agent.name, c.name);
      visibleKeys.push(k);
      indexOf.set(k, g.at + i);
    });
  }
  cache.current = { from: groups.map((g) => ({ rows: g.rows, at: g.at })), visibleKeys, indexOf };
  return cache.current;
}

/** Rows not drawn, standing as their height so that the scrollbar is as if they were. */
export function Spacer({ rows, rowHeight }: { rows: number; rowHeight: number }) {
  return (
    <tr aria-hidden="true" className="spacer" style={{ height: rows * rowHeight }}>
      <td colSpan={8} />
    </tr>
  );
}

/** A first guess at a row's height, until a drawn row is measured. */
const ROW_HEIGHT_GUESS = 33;

/**
 * The rows of the list to draw (row-window.ts), from the scroller's position and size, followed
 * once per frame at most; and the height of a row, measured on the first one drawn.
 */
export function useRowWindow(scroller: React.RefObject<HTMLDivElement | null>, total: number): { win: RowWindow; rowHeight: number; measureRow: (el: HTMLElement | null) => void } {
  const [view, setView] = useState({ top: 0, height: 800 });
  const [rowHeight, setRowHeight] = useState(ROW_HEIGHT_GUESS);
  useLayoutEffect(() => {
    const box = scroller.current;
    if (!box) return;
    let frame = 0;
    const read = () => {
      frame = 0;
      setView((v) => (v.top === box.scrollTop && v.height === box.clientHeight ? v : { top: box.scrollTop, height: box.clientHeight }));
    };
    const onChange = () => {
      frame ||= requestAnimationFrame(read);
    };
    read();
    box.addEventListener("scroll", onChange, { passive: true });
    const resize = new ResizeObserver(onChange);
    resize.observe(box);
    return () => {
      box.removeEventListener("scroll", onChange);
      resize.disconnect();
      cancelAnimationFrame(frame);
    };
  }, [scroller]);
  const measureRow = (el: HTMLElement | null) => {
    const h = el?.getBoundingClientRect().height;
    if (h && Math.abs(h - rowHeight) > 0.5) setRowHeight(h);
  };
  return { win: rowWindow(total, rowHeight, view.top, view.height), rowHeight, measureRow };
}
