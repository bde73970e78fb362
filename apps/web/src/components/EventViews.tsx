"use client";
// Events in words: one event's detail (pinned from the timeline), a table of a lane's events (the
// timeline's text alternative, newest first), the steps of a start, and a failed start's step.
import type { StateEvent } from "@corral/core";
import { causeText, clock, dateTime, describeEvent, duration } from "@/lib/format";
import { PHASE_COLOR, PHASE_ORDER, STATE_COLOR } from "@/lib/states";
import { StateChip } from "./StateChip";

export function EventDetail({ e, onClose, title }: { e: StateEvent; onClose: () => void; title?: string }) {
  const { summary, details } = describeEvent(e);
  return (
    <div className="event-detail" data-testid="event-detail">
      <div className="tooltip-head">
        <StateChip state={e.state} testId="event-detail-state" />
        {title && <strong>{title}</strong>}
        <span className="muted">{dateTime(e.at)} · #{e.seq}</span>
        <button className="link" onClick={onClose} aria-label="close the event's detail">✕</button>
      </div>
      <div>{summary}</div>
      {details.map((d) => (
        <div key={d} className="muted small">{d}</div>
      ))}
    </div>
  );
}

/** A lane's events as a table, newest first (at most `limit`): what the canvas shows, in words. */
export function EventTable({
  events,
  caption,
  limit = 300,
  onPick,
  testId = "event-list",
  rowTestId = "event-row",
}: {
  events: readonly StateEvent[];
  caption: string;
  limit?: number;
  onPick?: (e: StateEvent) => void;
  testId?: string;
  rowTestId?: string;
}) {
  const shown = events.slice(-limit).reverse();
  return (
    <>
      <table className="events" data-testid={testId} data-count={events.length}>
        <caption className="sr-only">{caption}</caption>
        <thead>
          <tr><th scope="col">Time</th><th scope="col">State</th><th scope="col">What happened</th><th scope="col">Cause</th></tr>
        </thead>
        <tbody>
          {shown.map((e) => {
            const { summary, details } = describeEvent(e);
            return (
              <tr key={e.seq} data-testid={rowTestId} data-seq={e.seq} data-state={e.state} onClick={onPick && (() => onPick(e))}>
                <td className="mono nowrap">{clock(e.at)}</td>
                <td><StateChip state={e.state} testId="event-state" /></td>
                <td>
                  {summary}
                  {details.slice(1).map((d) => (
                    <div key={d} className="muted small">{d}</div>
                  ))}
                </td>
                <td className="nowrap">{causeText(e)}</td>
              </tr>
            );
          })}
          {events.length === 0 && (
            <tr><td colSpan={4} className="muted empty">Nothing has happened to this container yet.</td></tr>
          )}
        </tbody>
      </table>
      {events.length > shown.length && <p className="muted small">Showing the last {shown.length} of {events.length} events.</p>}
    </>
  );
}

export function Steps({ failedStep, phases }: { failedStep?: string; phases?: { name: string; ms: number }[] }) {
  // a successful start lists the phases it timed; a failed one the usual steps, the failed one marked
  const names: string[] = phases ? phases.map((p) => p.name) : [...PHASE_ORDER];
  if (failedStep && !names.includes(failedStep)) names.push(failedStep);
  return (
    <ol className="steps">
      {names.map((n) => {
        const p = phases?.find((x) => x.name === n);
        const failed = n === failedStep;
        return (
          <li key={n} className={failed ? "failed" : p ? "done" : "idle"} data-testid={failed ? "failed-step" : undefined} data-step={n}>
            <span className="step-dot" style={p ? { background: PHASE_COLOR[n] ?? STATE_COLOR.STARTING } : undefined} />
            {n}
            {p && <span className="muted"> {duration(p.ms)}</span>}
            {failed && <span> ✕ failed</span>}
          </li>
        );
      })}
    </ol>
  );
}

/** The last start, if it failed: which step, and why. */
export function StartFailure({ events }: { events: StateEvent[] }) {
  let i = events.length - 1;
  while (i >= 0 && events[i]!.state !== "STARTING") i--;
  if (i < 0) return null;
  const failed = events.slice(i).find((e) => e.state === "ABORTING" && e.detail.error);
  if (!failed?.detail.error) return null;
  const err = failed.detail.error;
  return (
    <div className="failure" data-testid="start-failure">
      <div>
        <strong>Start failed at step “{err.step}”</strong> at {clock(failed.at)}: {err.message}
        {err.syscall && <span className="muted"> ({err.syscall}{err.errno !== undefined ? `, errno ${err.errno}` : ""})</span>}
      </div>
      <Steps failedStep={err.step} />
    </div>
  );
}
