// Types the dashboard's server and browser share. Pure.

export interface AgentStatus {
  name: string;
  url: string;
  up: boolean;
  hostname?: string;
  version?: string;
  storeId?: string;
  message?: string;
}

/** What the event stream's "status" SSE events say about the agent connection. */
export interface StreamStatus {
  agent: string;
  live: boolean;
  state: "connecting" | "live" | "reconnecting" | "error";
  message?: string;
}
