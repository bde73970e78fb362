// Every environment variable the agent and the CLI read, in one place.
import { DEFAULT_LXCPATH } from "./runtime/lxcpath.ts";

export const DEFAULT_LISTEN = "127.0.0.1:7690";

export const env = {
  /** the lxcpath (container store); --lxcpath wins */
  lxcpath: process.env.CORRAL_LXCPATH || DEFAULT_LXCPATH,
  /** the agent URL the CLI talks to; --agent wins */
  agent: process.env.CORRAL_AGENT,
  /** the API token; otherwise read from <lxcpath>/agent.token */
  token: process.env.CORRAL_TOKEN,
  /** extra origins allowed to open the WebSocket (comma-separated) */
  allowedOrigins: (process.env.CORRAL_ALLOWED_ORIGINS ?? "").split(",").map((s) => s.trim()).filter(Boolean),
};
