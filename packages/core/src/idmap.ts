// User-namespace id maps (lxc.idmap): parsed and checked as the kernel will take them in
// /proc/PID/uid_map and gid_map, so that a map the kernel would refuse (EINVAL at start) is an
// error of the config line instead. Pure.
import type { ContainerConfig, IdMapRange } from "./config.ts";

/** The kernel takes at most 340 ranges per map (Linux 4.15 and later). */
export const IDMAP_MAX_RANGES = 340;

/** Incus' default for an unprivileged container, and what `corral create --unprivileged` writes. */
export const DEFAULT_IDMAP: readonly IdMapRange[] = [
  { kind: "u", inside: 0, outside: 100000, count: 65536 },
  { kind: "g", inside: 0, outside: 100000, count: 65536 },
];

/** "u 0 100000 65536" (LXC's parse_idmaps: u or g, then three unsigned 32-bit numbers), or a reason. */
export function parseIdMapLine(value: string): IdMapRange | string {
  const m = /^([ug])\s+(\d{1,10})\s+(\d{1,10})\s+(\d{1,10})$/.exec(value.trim());
  const usage = `is not an id map "u|g INSIDE OUTSIDE COUNT" (like "u 0 100000 65536")`;
  if (!m) return `${JSON.stringify(value)} ${usage}`;
  const [inside, outside, count] = [m[2], m[3], m[4]].map(Number) as [number, number, number];
  if (count === 0) return `${JSON.stringify(value)}: COUNT must be at least 1`;
  if (inside + count > 2 ** 32 - 1 || outside + count > 2 ** 32 - 1) return `${JSON.stringify(value)}: the range ends past the last 32-bit id (4294967294)`;
  return { kind: m[1] as "u" | "g", inside, outside, count };
}

function overlaps(a: number, n: number, b: number, m: number): boolean {
  return a < b + m && b < a + n;
}

/**
 * What is wrong with a whole map, given the ranges in file order (checked after the last line):
 * overlapping ranges or too many of them (the kernel refuses the write), or no range for root
 * inside (LXC refuses that too: the init would have no id to become). The index of the range at
 * fault (the last one, for a missing root) and the reason; undefined when the map is good.
 */
export function idMapProblem(ranges: readonly IdMapRange[]): { index: number; reason: string } | undefined {
  for (const kind of ["u", "g"] as const) {
    const ids = kind === "u" ? "uid" : "gid";
    const mine = ranges.map((r, index) => ({ r, index })).filter((e) => e.r.kind === kind);
    if (mine.length > IDMAP_MAX_RANGES) return { index: mine[IDMAP_MAX_RANGES]!.index, reason: `more than ${IDMAP_MAX_RANGES} ${ids} ranges (the kernel's limit)` };
    for (const [i, { r, index }] of mine.entries()) {
      for (const { r: o } of mine.slice(0, i)) {
        if (overlaps(r.inside, r.count, o.inside, o.count)) return { index, reason: `${ids}s ${r.inside}-${r.inside + r.count - 1} inside overlap an earlier range (${o.inside}-${o.inside + o.count - 1})` };
        if (overlaps(r.outside, r.count, o.outside, o.count)) return { index, reason: `host ${ids}s ${r.outside}-${r.outside + r.count - 1} overlap an earlier range (${o.outside}-${o.outside + o.count - 1})` };
      }
    }
    if (mine.length === 0 && ranges.length > 0) return { index: ranges.length - 1, reason: `there is no ${kind} range: a user namespace needs both (add "lxc.idmap = ${kind} 0 100000 65536")` };
    if (mine.length > 0 && mapToHost(ranges, kind, 0) === undefined) return { index: mine[mine.length - 1]!.index, reason: `${ids} 0 (root inside) is in no ${kind} range; the init could not become root` };
  }
  return undefined;
}

/** The host id of `id` inside, through the ranges of `kind`; undefined when it is not mapped. */
export function mapToHost(ranges: readonly IdMapRange[], kind: "u" | "g", id: number): number | undefined {
  const r = ranges.find((m) => m.kind === kind && id >= m.inside && id < m.inside + m.count);
  return r === undefined ? undefined : r.outside + (id - r.inside);
}

/** The id inside for host id `id`; undefined when the host id is not mapped. */
export function mapFromHost(ranges: readonly IdMapRange[], kind: "u" | "g", id: number): number | undefined {
  const r = ranges.find((m) => m.kind === kind && id >= m.outside && id < m.outside + m.count);
  return r === undefined ? undefined : r.inside + (id - r.outside);
}

/** The text written to /proc/PID/uid_map ("u") or gid_map ("g"): one "INSIDE OUTSIDE COUNT" line per range. */
export function idMapFileText(ranges: readonly IdMapRange[], kind: "u" | "g"): string {
  return ranges.filter((r) => r.kind === kind).map((r) => `${r.inside} ${r.outside} ${r.count}\n`).join("");
}

export function formatIdMapLine(r: IdMapRange): string {
  return `${r.kind} ${r.inside} ${r.outside} ${r.count}`;
}

/** Is this an unprivileged container (its own user namespace)? */
export function isUnprivileged(config: Pick<ContainerConfig, "idmap">): boolean {
  return config.idmap.length > 0;
}
