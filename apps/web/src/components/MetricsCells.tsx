"use client";
// The list's share of the samples: a CPU sparkline in each running container's row, and each
// agent's summary on its group row (its containers' CPU and memory, the host's memory, how many run).
import { useMemo } from "react";
import type { Sample } from "@corral/core";
import { bytes, columns, formatValue, lastValue } from "@/lib/metrics-series";
import { Sparkline } from "./MetricChart";

/** The last minutes of a container's CPU, and its newest figure in words. */
export function CpuCell({ name, samples }: { name: string; samples: Sample[] }) {
  const [xs, ys] = useMemo(() => columns(samples, ["cpu"]), [samples]);
  const last = lastValue(samples, "cpu");
  if (samples.length === 0) return <td className="spark-cell muted">-</td>;
  return (
    <td className="spark-cell" data-testid="cpu-cell" data-last={last ?? ""}>
      <Sparkline xs={xs} ys={ys!} label={`CPU of ${name}, last ${Math.round(samples.length / 30)} min`} testId={`spark-${name}`} />
      <span className="spark-value">{last === null ? "-" : `${Math.round(last)} %`}</span>
    </td>
  );
}

/** "3 running · CPU 112 % · 310 MiB of 3.8 GiB": the newest host-wide sample, in words. */
export function HostSummary({ samples }: { samples: Sample[] }) {
  const s = samples.at(-1);
  if (!s) return null;
  const mem = s.mem === null ? "memory not measured" : s.memLimit ? `${bytes(s.mem)} of ${bytes(s.memLimit)}` : bytes(s.mem);
  return (
    <span className="muted host-summary" data-testid="host-summary" data-cpu={s.cpu ?? ""} data-running={s.running ?? 0}>
      {" · "}{s.running ?? 0} running · CPU {formatValue(s.cpu ?? 0, "%")} · {mem}
    </span>
  );
}
