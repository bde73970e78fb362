"use client";
// The right column: the selected container, its actions (PanelActions.tsx), the countdown of a
// stop or reboot, a failed start, and the tabs Timeline, Metrics, Console, Config, Audit (the WAI-ARIA tabs
// pattern: one tab stop, arrow keys and Home/End move between tabs and show each at once).
import dynamic from "next/dynamic";
import { useRef, type KeyboardEvent } from "react";
import { stopWords, type ContainerSummary } from "@corral/core";
import type { DashboardStore } from "@/client/store";
import { useNow } from "@/client/hooks";
import { clock, exitText, uptime } from "@/lib/format";
import { tabAfterKey } from "@/lib/keys";
import { TABS, type Tab, type TimeRange } from "@/lib/view-url";
import { StartFailure } from "./EventViews";
import { Actions, Countdown } from "./PanelActions";
import { AuditTab, ConfigTab, ContainerTimeline } from "./PanelTabs";
import { RestartPolicy } from "./RestartPolicy";
import { StateChip } from "./StateChip";

const ConsoleView = dynamic(() => import("./ConsoleView").then((m) => m.ConsoleView), {
  ssr: false,
  loading: () => <div className="muted pad">Loading the console…</div>,
});

const MetricsTab = dynamic(() => import("./MetricsTab").then((m) => m.MetricsTab), {
  ssr: false,
  loading: () => <div className="muted pad">Loading the graphs…</div>,
});

const TAB_LABEL: Record<Tab, string> = { timeline: "Timeline", metrics: "Metrics", console: "Console", config: "Config", audit: "Audit" };

export function ContainerPanel({
  store,
  agent,
  name,
  tab,
  onTab,
  range,
  onRangeChange,
  onDeleted,
  onBack,
}: {
  store: DashboardStore;
  agent: string;
  name: string;
  tab: Tab;
  onTab: (t: Tab) => void;
  range?: TimeRange;
  onRangeChange?: (r: TimeRange) => void;
  onDeleted: () => void;
  /** back to the list (shown on narrow screens, where the panel follows the list) */
  onBack?: () => void;
}) {
  const view = store.agent(agent);
  const c = view?.containers.find((x) => x.name === name);
  const now = useNow(1000);
  const tabRefs = useRef(new Map<Tab, HTMLButtonElement>());

  if (!view || !c) {
    return (
      <section className="detail-pane empty-pane" aria-label="container">
        <p className="muted">{view?.containersError ?? `No container "${name}" on ${agent}.`}</p>
      </section>
    );
  }
  const greyed = !view.status.up;
  const events = view.byContainer.get(name) ?? [];
  const onTabKey = (e: KeyboardEvent) => {
    const next = tabAfterKey(tab, e.key);
    if (!next) return;
    e.preventDefault();
    onTab(next);
    tabRefs.current.get(next)?.focus();
  };

  return (
    <section id="detail" className={`detail-pane ${greyed ? "greyed" : ""}`} data-testid="detail" data-container={name} aria-labelledby="detail-name">
      {onBack && (
        <button className="link back" onClick={onBack} data-testid="back-to-list">← All containers</button>
      )}
      <div className="detail-head">
        <div className="title">
          <StateChip state={c.state} greyed={greyed} testId="detail-state" />
          <h2 id="detail-name" data-testid="detail-name">{name}</h2>
          <span className="muted">on {agent}</span>
        </div>
        <dl className="facts">
          <div><dt>Uptime</dt><dd>{uptime(c.startedAt, now, c.state)}</dd></div>
          <div><dt>PID</dt><dd data-testid="detail-pid">{c.pid ?? "-"}</dd></div>
          <div><dt>IP</dt><dd className="mono">{c.ips.join(", ") || "-"}</dd></div>
          <div><dt>Root inside</dt><dd data-testid="detail-privilege" data-privileged={c.privileged === undefined ? undefined : String(c.privileged)}>{rootInside(c)}</dd></div>
          <div><dt>Last stop</dt><dd data-testid="detail-last-stop" data-reason={c.lastStop?.reason}>{c.lastStop ? stopWords(c.lastStop) : "-"}</dd></div>
          <div><dt>Last exit</dt><dd>{c.lastExit ? `${exitText(c.lastExit.status, c.lastExit.code)} at ${clock(c.lastExit.at, false)}` : "-"}</dd></div>
          <div><dt>Restart</dt><RestartPolicy agent={agent} c={c} onChanged={() => void store.loadContainers(agent)} /></div>
          <div><dt>Command</dt><dd className="mono clip" title={c.command?.join(" ")}>{c.command?.join(" ") ?? "-"}</dd></div>
        </dl>
      </div>
      {greyed && <div className="notice warn">Agent “{agent}” is unreachable: this is the last known state, and actions wait until it is back.</div>}
      <Actions
        agent={agent}
        c={c}
        disabled={greyed}
        onDeleted={() => {
          store.forgetContainer(agent, name);
          onDeleted();
        }}
      />
      <Countdown store={store} agent={agent} c={c} />
      <StartFailure events={events} />
      <div className="tabs" role="tablist" aria-label={`views of ${name}`} onKeyDown={onTabKey}>
        {TABS.map((t) => (
          <button
            key={t}
            ref={(el) => {
              if (el) tabRefs.current.set(t, el);
              else tabRefs.current.delete(t);
            }}
            role="tab"
            id={`tab-${t}`}
            aria-selected={tab === t}
            aria-controls={tab === t ? `tabpanel-${t}` : undefined}
            tabIndex={tab === t ? 0 : -1}
            className={tab === t ? "active" : ""}
            onClick={() => onTab(t)}
            data-testid={`tab-${t}`}
          >
            {TAB_LABEL[t]}
          </button>
        ))}
      </div>
      <div className="tab-body" role="tabpanel" id={`tabpanel-${tab}`} aria-labelledby={`tab-${tab}`} tabIndex={tab === "console" ? -1 : 0} data-testid="tabpanel">
        {tab === "timeline" && (
          <ContainerTimeline store={store} agent={agent} name={name} greyed={greyed} live={view.stream === "live"} events={events} range={range} onRangeChange={onRangeChange} />
        )}
        {tab === "metrics" && <MetricsTab key={`${agent}/${name}`} agent={agent} name={name} events={events} running={c.state !== "STOPPED"} />}
        {tab === "console" && <ConsoleView key={`${agent}/${name}`} agent={agent} name={name} running={c.state !== "STOPPED"} />}
        {tab === "config" && <ConfigTab agent={agent} name={name} />}
        {tab === "audit" && <AuditTab agent={agent} name={name} version={events.length} />}
      </div>
    </section>
  );
}

/** Who root inside is on the host: its own uid (unprivileged, lxc.idmap) or the host's root. */
function rootInside(c: ContainerSummary): string {
  if (c.privileged === undefined) return "-";
  return c.privileged ? "host root (privileged)" : `host uid ${c.rootUid ?? "?"} (unprivileged)`;
}
