// The bench's sections: which `--only` may choose, the keys of results.json each writes, and the
// merge that keeps the figures of the sections a run did not choose.
import { existsSync, readFileSync } from "node:fs";

/** The sections `--only` chooses from. scale and fanout are one measurement: fan-out is timed
 * during the scale burst, so choosing either runs both. */
export const SECTIONS = ["lifecycle", "scale", "fanout", "soak", "system", "cli", "samples", "dashboard", "dashboard-scale", "unprivileged"] as const;
export type Section = (typeof SECTIONS)[number];
/** The keys of results.json each section writes. */
const SECTION_KEYS: Record<Section, string[]> = {
  lifecycle: ["ratios", "lifecycle", "start_to_running", "start_phases_median_ms", "skipped"],
  scale: ["scale", "fanout"],
  fanout: ["scale", "fanout"],
  soak: ["soak"],
  system: ["system"],
  cli: ["cli"],
  samples: ["samples"],
  dashboard: ["dashboard"],
  "dashboard-scale": ["dashboard_scale"],
  unprivileged: ["unprivileged"],
};

function usage(message: string): never {
  process.stderr.write(`bench: ${message}\nusage: pnpm bench [--quick] [--only SECTION[,SECTION...]] [--scale N]   sections: ${SECTIONS.join(", ")}\n`);
  process.exit(2);
}

/** How many containers the scale section starts at once, when `--scale N` says. */
export function scaleArgument(argv: string[]): number | undefined {
  const i = argv.indexOf("--scale");
  if (i < 0) return undefined;
  const n = Number(argv[i + 1]);
  if (!Number.isInteger(n) || n < 1) usage(`--scale needs a whole number of containers, not ${argv[i + 1] ?? "nothing"}`);
  return n;
}

export function chosenSections(argv: string[]): Set<Section> {
  const chosen = new Set<Section>();
  let only: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--quick") continue;
    if (arg === "--scale") {
      i++;
      continue;
    }
    if (arg === "--only") {
      only = argv[++i];
      if (only === undefined) usage("--only needs a value");
    } else if (arg.startsWith("--only=")) only = arg.slice("--only=".length);
    else usage(`unknown argument ${arg}`);
  }
  if (only === undefined) return new Set(SECTIONS);
  for (const name of only.split(",").map((x) => x.trim()).filter(Boolean)) {
    if (!(SECTIONS as readonly string[]).includes(name)) usage(`unknown section ${name}`);
    chosen.add(name as Section);
  }
  if (chosen.size === 0) usage("--only names no section");
  if (chosen.has("scale") || chosen.has("fanout")) chosen.add("scale").add("fanout");
  return chosen;
}

interface SectionRun {
  date: string;
  quick: boolean;
  kernel?: string;
}
export type Results = Record<string, unknown> & { date: string; quick: boolean; machine?: { cpus: number; kernel: string; cpu?: string }; sections?: Record<string, SectionRun> };

/** This run's keys over the last run's: a section not run this time keeps its last figures, and
 * `sections` says when each was measured. */
export function mergeResults(previousPath: string, fresh: Results, ran: Set<Section>): Results {
  let previous: Results | undefined;
  if (existsSync(previousPath)) {
    try {
      previous = JSON.parse(readFileSync(previousPath, "utf8")) as Results;
    } catch (e) {
      process.stderr.write(`bench: ${previousPath} is not JSON (${(e as Error).message}): the sections not run are left out\n`);
    }
  }
  const sections: Record<string, SectionRun> = {};
  const merged: Results = { date: fresh.date, quick: fresh.quick, machine: fresh.machine, sections };
  for (const section of SECTIONS) {
    if (ran.has(section)) {
      for (const k of SECTION_KEYS[section]) if (k in fresh) merged[k] = fresh[k];
      sections[section] = { date: fresh.date, quick: fresh.quick, kernel: fresh.machine?.kernel };
      continue;
    }
    if (!previous) continue;
    const keys = SECTION_KEYS[section].filter((k) => k in previous);
    if (keys.length === 0) continue;
    for (const k of keys) merged[k] = previous[k];
    sections[section] = previous.sections?.[section] ?? { date: previous.date, quick: previous.quick, kernel: previous.machine?.kernel };
  }
  return merged;
}
