// Every environment variable the agent and the CLI read, in one place. It imports nothing: every
// corral command loads it, the quick ones (ls, info) too.

export const DEFAULT_LXCPATH = "/var/lib/corral";
export const DEFAULT_LISTEN = "127.0.0.1:7690";

export const env = {
  /** the lxcpath (container store); --lxcpath wins */
  lxcpath: process.env.CORRAL_LXCPATH || DEFAULT_LXCPATH,
  /** the agent the CLI talks to, a remote's name or a URL (empty: the local agent); --agent wins */
  agent: process.env.CORRAL_AGENT || undefined,
  /** the API token; otherwise read from <lxcpath>/agent.token */
  token: process.env.CORRAL_TOKEN,
  /** extra origins allowed to open the WebSocket (comma-separated) */
  allowedOrigins: (process.env.CORRAL_ALLOWED_ORIGINS ?? "").split(",").map((s) => s.trim()).filter(Boolean),
  /** the audit log's retention: rows older than this many days are deleted (default 90) */
  auditMaxAgeDays: positive(process.env.CORRAL_AUDIT_MAX_AGE_DAYS, 90),
  /** ... and the oldest rows past this many MiB of text (default 64) */
  auditMaxMiB: positive(process.env.CORRAL_AUDIT_MAX_MB, 64),
  /** 1: a corrupt store is set aside and what reads of it copied into a new one, instead of stopping */
  salvageStore: process.env.CORRAL_SALVAGE_STORE === "1",
  /** 0: no resource samples are taken (the bench measures the agent with and without) */
  sampling: process.env.CORRAL_SAMPLING !== "0",
  /** webhooks for alerts, JSON [{url, secret}]; otherwise read from <lxcpath>/webhooks.json */
  webhooks: process.env.CORRAL_WEBHOOKS,
  /** the memory alert: memory above this share of its limit (default 0.9) ... */
  alertMemoryShare: share(process.env.CORRAL_ALERT_MEMORY_SHARE, 0.9),
  /** ... for this many seconds (default 30) */
  alertMemorySeconds: positive(process.env.CORRAL_ALERT_MEMORY_SECONDS, 30),
};

function share(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return value !== undefined && value !== "" && n > 0 && n <= 1 ? n : fallback;
}

function positive(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return value !== undefined && value !== "" && Number.isFinite(n) && n > 0 ? n : fallback;
}
