// A long history for the scale test: many containers' lifecycles written to the agent's own store
// (through its Store class) before the agent starts, so the agent serves them as it would its own.
import { join } from "node:path";
import { Store } from "../../apps/agent/src/store/store.ts";

export function seedHistory(lxcpath: string, containers: number, events: number, spanMs: number): void {
  const store = new Store(join(lxcpath, "corral.db"));
  try {
    const quota = (c: number) => Math.floor(events / containers) + (c < events % containers ? 1 : 0);
    const end = Date.now() - 60_000;
    const start = end - spanMs;
    const started = { actor: "dashboard:admin", request: "start" };
    const stopped = { actor: "dashboard:admin", request: "stop --timeout 10" };
    const phases = [{ name: "network", ms: 0.2 }, { name: "cgroup", ms: 1 }, { name: "clone", ms: 4 }, { name: "exec", ms: 14 }];
    for (let c = 0; c < containers; c++) {
      const name = `lane-${String(c).padStart(3, "0")}`;
      const n = quota(c);
      const step = spanMs / Math.ceil(n / 4);
      // one lifecycle after another, cut off wherever the lane's share of events runs out
      const lane: [Parameters<Store["appendEvent"]>[1], Parameters<Store["appendEvent"]>[2], Parameters<Store["appendEvent"]>[3], number][] = [];
      for (let k = 0; lane.length < n; k++) {
        const t = start + k * step + ((c * 997) % Math.max(1, step / 4));
        if ((c + k) % 23 === 0) {
          const error = { step: "setup", syscall: "stat", errno: 2, message: "rootfs /nonexistent does not exist" };
          lane.push(["STARTING", started, { command: ["/bin/sh"] }, t], ["ABORTING", started, { error }, t + 3], ["STOPPED", started, { error }, t + 4]);
        } else {
          const stopAt = t + step * 0.6;
          lane.push(
            ["STARTING", started, { command: ["/bin/sh"] }, t],
            ["RUNNING", started, { pid: 1000 + k, cgroup: `corral-${name}`, phases }, t + 20],
            ["STOPPING", stopped, { signal: "SIGPWR", timeoutMs: 10_000, killAt: stopAt + 10_000 }, stopAt],
            ["STOPPED", stopped, { exitStatus: 0, exitCode: 0 }, stopAt + 800],
          );
        }
      }
      for (const [state, cause, detail, at] of lane.slice(0, n)) store.appendEvent(name, state, cause, detail, at);
    }
  } finally {
    store.close();
  }
}
