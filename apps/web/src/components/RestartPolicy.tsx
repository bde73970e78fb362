"use client";
// The container's restart policy in its panel: what it is, the restarts it made in a row and
// whether it is flapping, and a select to change it (containers.setRestartPolicy; the agent keeps
// it beside the config).
import { useState } from "react";
import { RESTART_POLICIES, type ContainerSummary, type RestartPolicyName } from "@corral/core";
import { call, CallError } from "@/client/api";

export function restartWords(r: NonNullable<ContainerSummary["restart"]>): string {
  const parts: string[] = [];
  if (r.restarts > 0) parts.push(`${r.restarts} restart${r.restarts === 1 ? "" : "s"} in a row`);
  if (r.flapping) parts.push("flapping");
  if (r.gaveUp) parts.push("gave up");
  return parts.join(", ");
}

export function RestartPolicy({ agent, c, onChanged }: { agent: string; c: ContainerSummary; onChanged: () => void }) {
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const r = c.restart;
  const change = async (policy: RestartPolicyName) => {
    setBusy(true);
    setError(undefined);
    try {
      await call(agent, "containers.setRestartPolicy", { name: c.name, policy });
      onChanged();
    } catch (e) {
      if (!(e instanceof CallError)) throw e;
      setError(e.message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <dd data-testid="detail-restart" data-flapping={r?.flapping ? "true" : "false"}>
      <select aria-label="restart policy" value={r?.policy ?? "never"} disabled={busy || !r} onChange={(e) => void change(e.target.value as RestartPolicyName)} data-testid="restart-policy">
        {RESTART_POLICIES.map((p) => <option key={p} value={p}>{p}</option>)}
      </select>
      {r && restartWords(r) && <span className={r.flapping ? "bad" : "muted"}> {restartWords(r)}</span>}
      {error && <span className="bad" role="alert"> {error}</span>}
    </dd>
  );
}
