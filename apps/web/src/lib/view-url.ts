// What a page's URL says about its view, so that a reload or a shared link opens the same view.
// Pure: the pages parse their searchParams with these, the browser writes them back on change.
//
//   /?c=local/web&tab=console&q=web&state=RUNNING&span=60000&end=1764640000000
//   /timeline?q=lane&lane=local/web&span=900000
//
// `c` is the selected container, `tab` the panel's tab, `q` and `state` the list's filters, `lane`
// the host timeline's selected lane, `span` the timeline's visible span (ms) and `end` its right
// edge (ms since the epoch) when it does not follow now. Anything malformed is dropped, never
// fatal: a shared link typed by hand still opens the page.
import { STATE_NAMES, type StateName } from "@corral/core";

export const TABS = ["timeline", "metrics", "console", "config", "audit"] as const;
export type Tab = (typeof TABS)[number];

export interface ContainerRef {
  agent: string;
  name: string;
}

export interface TimeRange {
  span: number;
  /** absent: the view follows now */
  end?: number;
}

export interface ContainersViewState {
  selected: ContainerRef | null;
  tab: Tab;
  filter: string;
  stateFilter: StateName | "";
  range?: TimeRange;
}

export interface TimelineViewState {
  filter: string;
  lane: ContainerRef | null;
  range?: TimeRange;
}

/** What Next gives a page as searchParams, or a URLSearchParams. */
export type Query = Record<string, string | string[] | undefined> | URLSearchParams;

function get(q: Query, key: string): string | undefined {
  if (q instanceof URLSearchParams) return q.get(key) ?? undefined;
  const v = q[key];
  return Array.isArray(v) ? v[0] : v;
}

export function parseRef(v: string | undefined): ContainerRef | null {
  const m = v ? /^([^/]+)\/(.+)$/.exec(v) : null;
  return m ? { agent: m[1]!, name: m[2]! } : null;
}

export const refText = (r: ContainerRef): string => `${r.agent}/${r.name}`;

/** A span and end within sane bounds (a span of 200 ms to 30 days, an end after 2000). */
export function parseRange(q: Query): TimeRange | undefined {
  const span = Number(get(q, "span"));
  if (!Number.isFinite(span) || span < 200 || span > 30 * 86_400_000) return undefined;
  const endText = get(q, "end");
  const end = endText === undefined ? NaN : Number(endText);
  return Number.isFinite(end) && end > 946_684_800_000 ? { span: Math.round(span), end: Math.round(end) } : { span: Math.round(span) };
}

export function parseContainersView(q: Query): ContainersViewState {
  const tab = get(q, "tab");
  const state = get(q, "state");
  return {
    selected: parseRef(get(q, "c")),
    tab: (TABS as readonly string[]).includes(tab ?? "") ? (tab as Tab) : "timeline",
    filter: get(q, "q") ?? "",
    stateFilter: (STATE_NAMES as readonly string[]).includes(state ?? "") ? (state as StateName) : "",
    range: parseRange(q),
  };
}

export function parseTimelineView(q: Query): TimelineViewState {
  return { filter: get(q, "q") ?? "", lane: parseRef(get(q, "lane")), range: parseRange(q) };
}

function rangeParams(p: URLSearchParams, range: TimeRange | undefined): void {
  if (!range) return;
  p.set("span", String(Math.round(range.span)));
  if (range.end !== undefined) p.set("end", String(Math.round(range.end)));
}

/** The query string for a containers view; defaults are left out, so a plain view is a plain URL. */
export function containersQuery(v: ContainersViewState): string {
  const p = new URLSearchParams();
  if (v.selected) p.set("c", refText(v.selected));
  if (v.tab !== "timeline") p.set("tab", v.tab);
  if (v.filter) p.set("q", v.filter);
  if (v.stateFilter) p.set("state", v.stateFilter);
  rangeParams(p, v.range);
  return p.toString();
}

export function timelineQuery(v: TimelineViewState): string {
  const p = new URLSearchParams();
  if (v.filter) p.set("q", v.filter);
  if (v.lane) p.set("lane", refText(v.lane));
  rangeParams(p, v.range);
  return p.toString();
}

/** Replace the address bar's query (no history entry, no navigation). Browser only. */
export function replaceQuery(query: string): void {
  const url = new URL(window.location.href);
  url.search = query;
  if (url.href !== window.location.href) window.history.replaceState(window.history.state, "", url);
}

/** A stop timeout as typed: whole seconds from 0 to 3600, or undefined. */
export function parseStopTimeout(v: string | null | undefined): number | undefined {
  if (v === null || v === undefined || v.trim() === "") return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? Math.max(0, Math.min(3600, Math.round(n))) : undefined;
}

/** "1 container", "2 containers". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString("en")} ${n === 1 ? one : many}`;
}
