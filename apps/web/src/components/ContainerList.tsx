"use client";
// The left column: every container of every agent, grouped by host, with filter, state filter,
// checkboxes and bulk start / stop / abort / delete (all but start ask first, naming the count and
// the containers). The rows are a WAI-ARIA grid navigated by row: one tab stop, arrow keys, Home
// and End move between containers, Enter opens one, Space checks it.
import { useCallback, useEffect, useMemo, useRef, useState, type KeyboardEvent } from "react";
import { STATE_NAMES, actionRefusal, type Action, type StateEvent, type StateName } from "@corral/core";
import type { DashboardStore } from "@/client/store";
import { useMetrics } from "@/client/metrics";
import { call } from "@/client/api";
import { storedStopTimeout } from "@/client/prefs";
import { agentDownWords } from "@/lib/format";
import { rowAfterKey } from "@/lib/keys";
import { scrollToShow } from "@/lib/row-window";
import { plural, type ContainerRef } from "@/lib/view-url";
import { useConfirm, type ConfirmRequest } from "./ConfirmDialog";
import { HostSummary } from "./MetricsCells";
import { key, Row, Spacer, useRowKeys, useRowWindow, type RowActions } from "./ContainerRows";


/** The step a container's last start failed at, if its last event says so. */
function failedStep(last: StateEvent | undefined): string | undefined {
  return last?.state === "STOPPED" ? last.detail.error?.step : undefined;
}

export type Selected = ContainerRef | null;
type BulkAction = Extract<Action, "start" | "stop" | "abort" | "delete">;


const BULK_ASK: Partial<Record<BulkAction, Omit<ConfirmRequest, "names">>> = {
  stop: { action: "Stop", consequence: "Each gets its halt signal, then SIGKILL after the stop timeout." },
  abort: { action: "Abort", consequence: "Every process of each container gets SIGKILL at once, with no chance to shut down cleanly." },
  delete: { action: "Delete", consequence: "Each container's config and rootfs directory are removed. This cannot be undone." },
};

export function ContainerList({
  store,
  now,
  selected,
  onSelect,
  onOpen,
  onCreate,
  filter,
  onFilter,
  stateFilter,
  onStateFilter,
}: {
  store: DashboardStore;
  now: number;
  selected: Selected;
  /** a container deleted here that was selected: pass null */
  onSelect: (s: Selected) => void;
  /** the operator opened a row (click, Enter) */
  onOpen: (s: ContainerRef) => void;
  onCreate: () => void;
  filter: string;
  onFilter: (f: string) => void;
  stateFilter: StateName | "";
  onStateFilter: (s: StateName | "") => void;
}) {
  const [checked, setChecked] = useState<Set<string>>(new Set());
  const metrics = useMetrics(store.agents.map((a) => a.name));
  const [dialog, confirm] = useConfirm();
  const [focusKey, setFocusKey] = useState<string | null>(null);
  const rowRefs = useRef(new Map<string, HTMLTableRowElement>());
  const [bulkResult, setBulkResult] = useState<{ ok: string[]; refused: string[] } | null>(null);
  const [busy, setBusy] = useState(false);

  const groups = useMemo(() => {
    // Each group is its header row, a line saying why it has no rows (or an error) when it has
    // none, then its rows; `at` is the flat index of its first container row among all rows.
    let at = 0;
    return store.agents.map((a) => {
      // unfiltered, the rows are the store's array itself: its identity changes only when the set of
      // containers does (an event replaces one summary in place), so the keys below are kept
      const rows = !filter && !stateFilter ? a.containers : a.containers.filter(
        (c) => (!filter || c.name.toLowerCase().includes(filter.toLowerCase())) && (!stateFilter || c.state === stateFilter),
      );
      const note = (a.containersError && a.status.up ? 1 : 0) + (rows.length === 0 && !a.containersError ? 1 : 0);
      const group = { agent: a, rows, header: at, at: at + 1 + note };
      at = group.at + rows.length;
      return group;
    });
    // the store mutates in place; its version drives re-renders
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [store.version, filter, stateFilter]);
  const totalRows = groups.reduce((n, g) => g.at + g.rows.length, 0);
  const scroller = useRef<HTMLDivElement>(null);
  const { win, rowHeight, measureRow } = useRowWindow(scroller, totalRows);
  const { visibleKeys, indexOf } = useRowKeys(groups);
  const { allChecked, selectedCount } = useMemo(() => {
    // a checked row the filter hides is neither counted nor acted on
    let n = 0;
    for (const k of visibleKeys) if (checked.has(k)) n++;
    return { allChecked: visibleKeys.length > 0 && n === visibleKeys.length, selectedCount: n };
  }, [visibleKeys, checked]);

  const toggle = useCallback((k: string) => {
    setChecked((was) => {
      const next = new Set(was);
      if (next.has(k)) next.delete(k);
      else next.add(k);
      return next;
    });
  }, []);

  const bulk = async (action: BulkAction) => {
    const targets = groups.flatMap((g) =>
      g.rows.filter((c) => checked.has(key(g.agent.name, c.name))).map((c) => ({ agent: g.agent.name, c })),
    );
    const ask = BULK_ASK[action];
    if (ask && !(await confirm({ ...ask, names: targets.map((t) => t.c.name) }))) return;
    setBusy(true);
    setBulkResult(null);
    const ok: string[] = [];
    const refused: string[] = [];
    const timeout = storedStopTimeout();
    await Promise.all(
      targets.map(async ({ agent, c }) => {
        const why = actionRefusal(action, c.state);
        if (why) return void refused.push(`${c.name}: ${why}`);
        try {
          if (action === "start") await call(agent, "containers.start", { name: c.name });
          else if (action === "stop") await call(agent, "containers.stop", { name: c.name, timeout, wait: false });
          else if (action === "abort") await call(agent, "containers.abort", { name: c.name });
          else {
            await call(agent, "containers.delete", { name: c.name });
            store.forgetContainer(agent, c.name);
            if (selected?.agent === agent && selected.name === c.name) onSelect(null);
            setChecked((was) => {
              const next = new Set(was);
              next.delete(key(agent, c.name));
              return next;
            });
          }
          ok.push(c.name);
        } catch (e) {
          refused.push(`${c.name}: ${(e as Error).message}`);
        }
      }),
    );
    setBulkResult({ ok, refused });
    setBusy(false);
  };

  const counts = useMemo(() => {
    const m = new Map<StateName, number>();
    for (const a of store.agents) for (const c of a.containers) m.set(c.state, (m.get(c.state) ?? 0) + 1);
    return m;
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [store.version]);

  // the grid's one tab stop: the row last focused, else the selected one, else the first
  const rowKeys = visibleKeys;
  const flatIndex = (k: string) => indexOf.get(k) ?? -1;
  const drawn = (k: string) => {
    const i = flatIndex(k);
    return i >= win.first && i < win.end;
  };
  // the one tab stop must be a row that is drawn: else the first drawn row
  const tabStop = [focusKey, selected && key(selected.agent, selected.name)].find((k) => k && drawn(k))
    ?? groups.flatMap((g) => g.rows.slice(Math.max(0, win.first - g.at), Math.max(0, win.end - g.at)).map((c) => key(g.agent.name, c.name)))[0];
  // A row moved to by key but not drawn yet: scrolled to, then focused once it is drawn.
  const pendingFocus = useRef<string | null>(null);
  useEffect(() => {
    const k = pendingFocus.current;
    const el = k ? rowRefs.current.get(k) : undefined;
    if (!el) return;
    pendingFocus.current = null;
    el.focus();
  });
  const onGridKey = (e: KeyboardEvent, k: string, open: () => void) => {
    if (e.target !== e.currentTarget) return; // a key in the row's checkbox is the checkbox's
    if (e.key === "Enter") {
      e.preventDefault();
      open();
      return;
    }
    if (e.key === " ") {
      e.preventDefault();
      toggle(k);
      return;
    }
    const next = rowAfterKey(rowKeys.indexOf(k), rowKeys.length, e.key);
    if (next === undefined) return;
    e.preventDefault();
    const nk = rowKeys[next]!;
    setFocusKey(nk);
    const el = rowRefs.current.get(nk);
    if (el) {
      el.focus();
      return;
    }
    pendingFocus.current = nk;
    const box = scroller.current;
    const head = box?.querySelector("thead")?.getBoundingClientRect().height ?? 0;
    const to = box ? scrollToShow(flatIndex(nk), rowHeight, box.scrollTop, box.clientHeight, head) : undefined;
    if (box && to !== undefined) box.scrollTop = to;
  };

  // The rows' handlers, one object for the list's lifetime that calls the newest closures: a row's
  // props then change only when what it shows does, and memo() skips the rest (a thousand
  // containers' events otherwise render every drawn row each frame, and re-attach its ref, which
  // measured the row and forced a layout).
  const latest = useRef({ onGridKey, onOpen, measureRow });
  const actions = useMemo<RowActions>(() => ({
    open: (agent, name) => {
      setFocusKey(key(agent, name));
      latest.current.onOpen({ agent, name });
    },
    toggle,
    keyDown: (e, agent, name) => latest.current.onGridKey(e, key(agent, name), () => actions.open(agent, name)),
    register: (k, el) => {
      if (el) rowRefs.current.set(k, el);
      else rowRefs.current.delete(k);
      latest.current.measureRow(el);
    },
  }), [toggle]);
  latest.current = { onGridKey, onOpen, measureRow };

  return (
    <section className="list-pane" aria-label="container list" data-testid="list-pane">
      <div className="list-tools">
        <input
          className="input grow"
          placeholder="Filter by name"
          value={filter}
          onChange={(e) => onFilter(e.target.value)}
          data-testid="filter"
          aria-label="filter by name"
        />
        <select
          className="input"
          value={stateFilter}
          onChange={(e) => onStateFilter(e.target.value as StateName | "")}
          data-testid="state-filter"
          aria-label="filter by state"
        >
          <option value="">All states</option>
          {STATE_NAMES.map((s) => (
            <option key={s} value={s}>
              {s} {counts.get(s) ? `(${counts.get(s)})` : ""}
            </option>
          ))}
        </select>
        <button className="btn primary" onClick={onCreate} data-testid="create-open">+ New</button>
      </div>
      <div className="bulk-bar">
        <label className="check">
          <input
            type="checkbox"
            checked={allChecked}
            onChange={() => setChecked(allChecked ? new Set() : new Set(visibleKeys))}
            data-testid="check-all"
            aria-label="select all shown"
          />
          <span data-testid="selected-count">{selectedCount ? `${selectedCount} selected` : "Select"}</span>
        </label>
        <div className="btn-group">
          <button className="btn small" disabled={!selectedCount || busy} onClick={() => void bulk("start")} data-testid="bulk-start">Start</button>
          <button className="btn small" disabled={!selectedCount || busy} onClick={() => void bulk("stop")} data-testid="bulk-stop">Stop</button>
          <button className="btn small danger" disabled={!selectedCount || busy} onClick={() => void bulk("abort")} data-testid="bulk-abort">Abort</button>
          <button className="btn small danger" disabled={!selectedCount || busy} onClick={() => void bulk("delete")} data-testid="bulk-delete">Delete</button>
        </div>
        {dialog}
      </div>
      {bulkResult && (
        <div className={`notice ${bulkResult.refused.length ? "warn" : "ok"}`} data-testid="bulk-result">
          {bulkResult.ok.length > 0 && <div>Done: {bulkResult.ok.join(", ")}</div>}
          {bulkResult.refused.map((r) => (
            <div key={r}>Refused: {r}</div>
          ))}
          <button className="link" onClick={() => setBulkResult(null)}>dismiss</button>
        </div>
      )}
      <div className="list-scroll" ref={scroller} data-testid="list-scroll">
        <table className="clist" role="grid" aria-rowcount={totalRows + 1} aria-label="containers (arrow keys move, Enter opens, Space checks)" data-testid="container-grid">
          <thead>
            <tr aria-rowindex={1}>
              <th className="w-check"><span className="sr-only">Checked</span></th>
              <th>State</th>
              <th>Name</th>
              <th className="num">Uptime</th>
              <th className="num">PID</th>
              <th>IP</th>
              <th>Last exit</th>
              <th className="spark-cell">CPU</th>
            </tr>
          </thead>
          {groups.map(({ agent, rows, header, at }) => {
            const greyed = !agent.status.up;
            // this group's share of the drawn window, and the rows before and after it it stands for
            const from = Math.min(rows.length, Math.max(0, win.first - at));
            const to = Math.max(from, Math.min(rows.length, win.end - at));
            return (
              <tbody key={agent.name} data-testid={`group-${agent.name}`} className={greyed ? "greyed" : ""}>
                <tr className="group-row" aria-rowindex={header + 2}>
                  <td colSpan={8}>
                    <span className={`dot ${agent.status.up ? "live" : "down"}`} /> {agent.name}
                    <span className="muted"> · {agent.status.hostname ?? agent.status.url} · {plural(agent.containers.length, "container")}</span>
                    {!greyed && <HostSummary samples={metrics.host(agent.name)} />}
                    {greyed && <span className="tag down">{agentDownWords(agent.status)}</span>}
                  </td>
                </tr>
                {agent.containersError && !greyed && (
                  <tr aria-rowindex={header + 3}>
                    <td colSpan={8} className="row-error">{agent.containersError}</td>
                  </tr>
                )}
                {rows.length === 0 && !agent.containersError && (
                  <tr aria-rowindex={header + 3}>
                    <td colSpan={8} className="muted empty">{agent.containers.length ? "No container matches the filter." : agent.loaded || agent.status.up ? "No containers yet." : "Loading…"}</td>
                  </tr>
                )}
                {from > 0 && <Spacer rows={from} rowHeight={rowHeight} />}
                {rows.slice(from, to).map((c, i) => {
                  const k = key(agent.name, c.name);
                  return (
                    <Row
                      key={c.name}
                      agent={agent.name}
                      c={c}
                      // only a running container's uptime moves with the clock
                      now={c.state === "STOPPED" ? 0 : now}
                      greyed={greyed}
                      checked={checked.has(k)}
                      selected={selected?.agent === agent.name && selected.name === c.name}
                      tabbable={k === tabStop}
                      rowIndex={at + from + i + 2}
                      actions={actions}
                      failedStep={failedStep(store.lastEvent(agent.name, c.name))}
                      samples={metrics.container(agent.name, c.name)}
                    />
                  );
                })}
                {to < rows.length && <Spacer rows={rows.length - to} rowHeight={rowHeight} />}
              </tbody>
            );
          })}
        </table>
      </div>
    </section>
  );
}
