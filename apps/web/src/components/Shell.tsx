"use client";
// The frame of every signed-in page: top bar (product, pages, agents with their dots, user, sign
// out) and the banners for unreachable agents and a stream that is reconnecting.
import Link from "next/link";
import { useEffect, useState, type ReactNode } from "react";
import { dashboardStore } from "@/client/store";
import { useDashboard } from "@/client/hooks";
import { AlertBell, AlertToasts } from "./Alerts";
import { AgentsDialog } from "./AgentsDialog";
import type { AgentStatus } from "@/lib/types";
import { agentDownWords } from "@/lib/format";

/** The banner's first words for an agent that cannot be used, by what is wrong. */
function downHeading(a: AgentStatus): string {
  const words = agentDownWords(a);
  return words === "refused" ? "refused the connection." : words === "unreachable" ? "unreachable." : "has another version.";
}

export function Shell({ user, page, children }: { user: string; page: "containers" | "timeline"; children: ReactNode }) {
  const store = useDashboard();
  const [managing, setManaging] = useState(false);
  useEffect(() => {
    void dashboardStore().start();
    // the page answers clicks from now on (tests wait for it: a click before hydration is lost)
    document.documentElement.dataset.hydrated = "true";
  }, []);

  const down = store.agents.filter((a) => !a.status.up);
  // "connecting" is a first connection, not yet a loss: no banner for it
  const reconnecting = store.agents.filter((a) => (a.stream === "reconnecting" || a.stream === "error") && a.loaded);

  return (
    <div className="app">
      <header className="topbar">
        <div className="brand">
          <span className="logo" aria-hidden>◧</span> corral
        </div>
        <nav className="nav" aria-label="pages">
          <Link href="/" className={page === "containers" ? "active" : ""} aria-current={page === "containers" ? "page" : undefined} data-testid="nav-containers">Containers</Link>
          <Link href="/timeline" className={page === "timeline" ? "active" : ""} aria-current={page === "timeline" ? "page" : undefined} data-testid="nav-timeline">Timeline</Link>
        </nav>
        <div className="agents" data-testid="agents" role="group" aria-label="agents">
          {store.agents.map((a) => (
            <span
              key={a.name}
              className="agent"
              data-testid={`agent-${a.name}`}
              data-up={a.status.up ? "yes" : "no"}
              title={a.status.up ? `${a.name}: ${a.status.hostname ?? ""} ${a.status.url} — ${a.stream}` : a.status.message ?? "unreachable"}
            >
              <span className={`dot ${a.status.up ? (a.stream === "live" ? "live" : "pending") : "down"}`} />
              {a.name}
              <span className="agent-state">{a.status.up ? (a.stream === "live" ? "live" : a.stream) : agentDownWords(a.status)}</span>
            </span>
          ))}
        </div>
        <AlertBell />
        {/* after the bell: on a phone the bar wraps, and the bell's list must open from its first line */}
        <button className="btn small" onClick={() => setManaging(true)} data-testid="manage-agents">Agents…</button>
        <div className="user">
          <span data-testid="user">{user}</span>
          <form method="post" action="/api/logout">
            <button type="submit" className="link" data-testid="sign-out">Sign out</button>
          </form>
        </div>
      </header>
      {store.configError && (
        <div className="banner error" role="alert">The dashboard's agent list is wrong: {store.configError}</div>
      )}
      {down.map((a) => (
        <div key={a.name} className="banner error" role="alert" data-testid={`agent-unreachable-${a.name}`}>
          <strong>Agent “{a.name}” {downHeading(a.status)}</strong> {a.status.message?.replace(/^(Unreachable|Refused|Version mismatch): /, "") ?? ""} Its containers are shown greyed with their last known state; the dashboard keeps trying.
        </div>
      ))}
      {reconnecting.length > 0 && (
        <div className="banner warn" role="status" data-testid="reconnecting">
          <span className="spinner" /> Reconnecting to {reconnecting.map((a) => a.name).join(", ")}… the timeline will catch up from where it stopped.
        </div>
      )}
      <main className="main">{children}</main>
      <AlertToasts />
      {managing && <AgentsDialog onClose={() => setManaging(false)} />}
    </div>
  );
}
