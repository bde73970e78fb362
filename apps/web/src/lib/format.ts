// Words and numbers for people: durations, times, exit statuses, event causes. Pure.
import { decodeWaitStatus, signalName, stopWords, type StateEvent } from "@corral/core";

export function duration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "-";
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${Math.floor(s % 60)}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

export { exitShort, uptime } from "@corral/core";

export function clock(at: number, withMs = true): string {
  const d = new Date(at);
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}${withMs ? `.${p(d.getMilliseconds(), 3)}` : ""}`;
}

export function dateTime(at: number): string {
  const d = new Date(at);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")} ${clock(at)}`;
}

/** "exit 0", "killed by signal 9 (exit 137)". */
export function exitText(status: number | undefined, code: number | undefined, signal?: number | string): string {
  if (status === undefined) return code !== undefined ? `exit ${code}` : "-";
  const w = decodeWaitStatus(status);
  if ("exited" in w) return `exit ${w.code}`;
  if ("signaled" in w) return `killed by ${typeof signal === "string" ? signal : signalName(w.signal)} (exit ${code ?? 128 + w.signal})`;
  return `status ${status}`;
}

export function causeText(e: StateEvent): string {
  return `${e.cause.actor}${e.cause.request ? ` (${e.cause.request})` : ""}`;
}

type D = StateEvent["detail"] & {
  command?: string[];
  timeoutMs?: number;
  killAt?: number;
  note?: string;
  halt?: boolean;
  warnings?: string[];
};

/** One line saying what happened, and further lines of detail. */
export function describeEvent(e: StateEvent): { summary: string; details: string[] } {
  const d = e.detail as D;
  const details: string[] = [`by ${causeText(e)}`];
  let summary: string;
  switch (e.state) {
    case "STARTING":
      summary = "start";
      if (d.command) details.push(`command: ${d.command.join(" ")}`);
      if (d.warnings?.length) details.push(...d.warnings.map((w) => `warning: ${w}`));
      break;
    case "RUNNING":
      summary = d.pid ? `running, pid ${d.pid}` : "running";
      if (d.phases?.length) details.push(`start phases: ${d.phases.map((p) => `${p.name} ${duration(p.ms)}`).join(", ")}`);
      break;
    case "STOPPING":
      if (d.killAt !== undefined) {
        const wait = d.timeoutMs ?? d.killAt - e.at;
        const sent = `${String(d.signal ?? (d.reboot ? "reboot signal" : "halt signal"))} sent${wait > 0 ? `; kill after ${duration(wait)}` : ""}`;
        summary = d.reboot ? `reboot: ${sent}` : sent;
        if (d.note) details.push(d.note);
      } else if (d.exitStatus !== undefined) {
        summary = d.reboot ? `init asked for a reboot (${exitText(d.exitStatus, d.exitCode, d.signal)})` : `init exited: ${exitText(d.exitStatus, d.exitCode, d.signal)}`;
      } else if (d.error) {
        summary = `stopping after a failed start at ${d.error.step}`;
      } else {
        summary = "stopping";
      }
      break;
    case "ABORTING":
      if (d.error) {
        summary = `start failed at step ${d.error.step}: ${d.error.message}`;
        if (d.error.syscall) details.push(`${d.error.syscall}${d.error.errno !== undefined ? `, errno ${d.error.errno}` : ""}`);
      } else {
        summary = `abort: ${String(d.signal ?? "SIGKILL")} to every process`;
      }
      break;
    case "STOPPED":
      if (d.error) summary = `stopped: start failed at ${d.error.step}`;
      else if (d.stop?.reason === "oom-killed" || d.stop?.reason === "killed-outside") summary = `stopped: ${stopWords(d.stop)}`;
      else if (d.exitStatus !== undefined) summary = `stopped, ${exitText(d.exitStatus, d.exitCode, d.signal)}${d.reboot ? ", rebooting" : d.halt ? ", halt" : ""}`;
      else summary = "stopped";
      break;
    default:
      summary = e.state.toLowerCase();
  }
  return { summary, details };
}

/** One or two words for an agent that cannot be used, by what is wrong (packages/core agent-problems.ts kinds). */
export function agentDownWords(status: { problem?: string }): string {
  if (status.problem === "version") return "version mismatch";
  if (status.problem === undefined || status.problem === "unreachable" || status.problem === "timeout") return "unreachable";
  return "refused";
}
