// Resource samples as the graphs draw them: a stored range and the live ticks merged into one
// series, the columns uPlot takes (x in seconds), the state changes on the same time axis, and the
// figures in words. Pure.
import type { Sample, StateEvent, StateName } from "@corral/core";

/** The spans the Metrics tab offers: the live window, the last hour, the last day. */
export const METRIC_SPANS = [
  { id: "live", label: "Live (10 min)", ms: 10 * 60_000 },
  { id: "1h", label: "1 hour", ms: 3600_000 },
  { id: "24h", label: "24 hours", ms: 24 * 3600_000 },
] as const;
export type MetricSpan = (typeof METRIC_SPANS)[number]["id"];

/** Stored and live samples as one series in time order, one point a time (the newest wins), within [from, ∞). */
export function mergeSeries(stored: readonly Sample[], live: readonly Sample[], from: number): Sample[] {
  const byTime = new Map<number, Sample>();
  for (const s of stored) if (s.t >= from) byTime.set(s.t, s);
  const lastStored = stored.at(-1)?.t ?? -Infinity;
  // live points inside a stored minute would draw twice: only those after the stored ones
  for (const s of live) if (s.t >= from && s.t > lastStored) byTime.set(s.t, s);
  return [...byTime.values()].sort((a, b) => a.t - b.t);
}

/** Keep at most `max` points, the newest. */
export function keepLast<T>(list: T[], max: number): T[] {
  return list.length > max ? list.slice(list.length - max) : list;
}

export type Column = Array<number | null>;

/** What each graph plots: its series' fields and labels. */
export const GRAPHS = [
  { id: "cpu", title: "CPU", unit: "%", series: [{ field: "cpu", label: "CPU % of one core" }] },
  { id: "mem", title: "Memory", unit: "bytes", series: [{ field: "mem", label: "used" }, { field: "memLimit", label: "limit" }] },
  { id: "io", title: "Disk I/O", unit: "bytes/s", series: [{ field: "ioRead", label: "read" }, { field: "ioWrite", label: "written" }] },
  { id: "net", title: "Network", unit: "bytes/s", series: [{ field: "netRx", label: "received" }, { field: "netTx", label: "sent" }] },
  { id: "pids", title: "Processes", unit: "", series: [{ field: "pids", label: "pids" }] },
] as const satisfies ReadonlyArray<{ id: string; title: string; unit: string; series: ReadonlyArray<{ field: keyof Sample; label: string }> }>;
export type GraphId = (typeof GRAPHS)[number]["id"];

/** uPlot's data for one graph: x (seconds), then a column a series. */
export function columns(samples: readonly Sample[], fields: ReadonlyArray<keyof Sample>): [number[], ...Column[]] {
  const xs = samples.map((s) => s.t / 1000);
  return [xs, ...fields.map((f) => samples.map((s) => s[f] ?? null))];
}

/** The newest non-null value of a field, if any. */
export function lastValue(samples: readonly Sample[], field: keyof Sample): number | null {
  for (let i = samples.length - 1; i >= 0; i--) {
    const v = samples[i]![field];
    if (typeof v === "number") return v;
  }
  return null;
}

/** The state changes within [from, to], for marks on the graphs' time axis. */
export function stateMarks(events: readonly StateEvent[], from: number, to: number): Array<{ t: number; state: StateName }> {
  return events.filter((e) => e.at >= from && e.at <= to).map((e) => ({ t: e.at, state: e.state }));
}

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

/** Bytes in binary units: "1.5 MiB", "512 B". */
export function bytes(n: number): string {
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? Math.round(v) : v.toFixed(v < 10 ? 1 : 0)} ${UNITS[u]}`;
}

/** A graph's value in words, in its unit. */
export function formatValue(value: number | null, unit: string): string {
  if (value === null) return "-";
  if (unit === "%") return `${value.toFixed(1)} %`;
  if (unit === "bytes") return bytes(value);
  if (unit === "bytes/s") return `${bytes(value)}/s`;
  return String(Math.round(value));
}

/** Why a graph has no figures for a running container: its cgroup is not in that controller's hierarchy, or it has no veth. */
export const NOT_MEASURED: Partial<Record<GraphId, string>> = {
  cpu: "not measured (no cpu.stat or cpuacct for this cgroup)",
  io: "not measured (no io or blkio cgroup: an lxc.cgroup2.io.* or lxc.cgroup.blkio.* key puts it in one)",
  net: "not measured (no veth)",
  pids: "not measured (no pids cgroup: set lxc.cgroup2.pids.max)",
};

/** The memory line in words: "12 MiB of 64 MiB (19 %)", "12 MiB (no limit)", or why there is none. */
export function memoryText(s: Sample | undefined): string {
  if (!s || s.mem === null) return "not measured (no memory cgroup: set lxc.cgroup2.memory.max)";
  if (s.memLimit === null) return `${bytes(s.mem)} (no limit)`;
  return `${bytes(s.mem)} of ${bytes(s.memLimit)} (${Math.round((s.mem / s.memLimit) * 100)} %)`;
}

/**
 * uPlot's data for one field of several hosts on one time axis: x (seconds) is every time any host
 * has a point at, and each host's column is null where it has none (uPlot leaves a gap there, or
 * joins over it with spanGaps). Hosts sample on their own clocks, so their times rarely agree.
 */
export function alignHosts(hosts: ReadonlyArray<readonly Sample[]>, field: keyof Sample): [number[], ...Column[]] {
  const times = [...new Set(hosts.flatMap((h) => h.map((s) => s.t)))].sort((a, b) => a - b);
  const index = new Map(times.map((t, i) => [t, i]));
  const cols = hosts.map((h) => {
    const col: Column = new Array<number | null>(times.length).fill(null);
    for (const s of h) col[index.get(s.t)!] = s[field] ?? null;
    return col;
  });
  return [times.map((t) => t / 1000), ...cols];
}

/**
 * A sparkline's SVG paths in a `width` × `height` box: the line, and the area under it to fill. x
 * spans the samples' times, y 0 to the largest value (at least 1, so that an idle container lies
 * flat at the bottom); a null starts a new piece of line.
 */
export function sparkPaths(xs: readonly number[], ys: Column, width: number, height: number): { line: string; area: string } {
  let max = 1;
  for (const y of ys) if (y !== null && y > max) max = y;
  const x0 = xs[0] ?? 0;
  const span = (xs.at(-1) ?? 0) - x0 || 1;
  const px = (i: number) => (((xs[i]! - x0) / span) * width).toFixed(1);
  const py = (y: number) => (height - (y / max) * height).toFixed(1);
  let line = "";
  let area = "";
  let pieceStart = -1;
  const closePiece = (end: number) => {
    if (pieceStart >= 0) area += `L${px(end)},${height}L${px(pieceStart)},${height}Z`;
    pieceStart = -1;
  };
  ys.forEach((y, i) => {
    if (y === null) {
      closePiece(i - 1);
      return;
    }
    const point = `${px(i)},${py(y)}`;
    line += `${pieceStart < 0 ? "M" : "L"}${point}`;
    area += `${pieceStart < 0 ? "M" : "L"}${point}`;
    if (pieceStart < 0) pieceStart = i;
  });
  closePiece(ys.length - 1);
  return { line, area };
}
