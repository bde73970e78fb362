// Types on the agent's API, shared by the agent, the CLI and the dashboard. Pure.
import type { StateEvent } from "./events.ts";
import type { StopReason } from "./stop-reason.ts";
import type { RestartStatus } from "./restart-policy.ts";
import type { Action, StateName } from "./states.ts";

export interface ContainerSummary {
  name: string;
  state: StateName;
  pid?: number;
  /** ms since the epoch, while running */
  startedAt?: number;
  /** configured IPv4 addresses, without prefix length */
  ips: string[];
  lastExit?: { status: number; code: number; at: number };
  lastError?: string;
  /** why the last run ended (stop-reason.ts) */
  lastStop?: StopReason;
  /** its restart policy, the restarts it made in a row, whether it is flapping */
  restart?: RestartStatus;
  command?: string[];
  cgroup?: string;
  autostart: boolean;
  /**
   * false for an unprivileged container (lxc.idmap: root inside is `rootUid` on the host), true
   * when root inside is the host's root; undefined when its config cannot be read
   */
  privileged?: boolean;
  rootUid?: number;
  /** the actions the state guards allow now */
  actions: Action[];
}

export interface ContainerDetail extends ContainerSummary {
  configPath: string;
  configText: string;
  /** what the parser warned about or cannot enforce, with file and line */
  warnings: string[];
  rootfs: string;
  hostname: string;
}

export interface AgentInfo {
  hostname: string;
  version: string;
  /** the API's version (tls-pin.ts API_VERSION): clients refuse an agent of another */
  api: number;
  lxcpath: string;
  storeId: string;
  startedAt: number;
  lastSeq: number;
}

/**
 * What the event stream yields: a stored event, or a resync order when the client's cursor cannot
 * be continued (from another store, or the client fell behind). After a resync the client reloads
 * the timeline and subscribes again from `lastSeq`.
 */
export type StreamItem =
  | { kind: "event"; event: StateEvent }
  | { kind: "resync"; reason: string; storeId: string; lastSeq: number };

/**
 * What console.onOutput yields, with a console cursor as its tracked id: text, and whether the
 * reader must start over (the whole ring follows) or continues where it was.
 */
export interface ConsoleOutput {
  reset: boolean;
  text: string;
}

/** A stream cursor: "<storeId>:<seq>". */
export function formatCursor(storeId: string, seq: number): string {
  return `${storeId}:${seq}`;
}

export function parseCursor(cursor: string): { storeId: string; seq: number } | undefined {
  const m = /^([0-9a-f-]{8,64}):(\d+)$/.exec(cursor);
  if (!m) return undefined;
  return { storeId: m[1]!, seq: Number(m[2]) };
}

/** The shape of Node's `ws` WebSocket class, as far as withHeaders needs it. */
export type HeaderWebSocketClass = new (url: string | URL, protocols: string | string[] | undefined, options: { headers: Record<string, string> } & object) => object;

/**
 * A WebSocket class for tRPC's WebSocket client that sends `headers` (the agent's token) with its
 * upgrade request: Node 20 has no global WebSocket, and a browser's cannot send headers, so the
 * CLI and the dashboard's server both hand tRPC a subclass of `ws`'s. `Base` is that class (core
 * imports no package). `options` are more of ws's options: the TLS pin of an https agent
 * (tls-pin.ts), a client certificate.
 */
export function withHeaders(Base: HeaderWebSocketClass, headers: Record<string, string>, options: object = {}): typeof globalThis.WebSocket {
  return class extends Base {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols, { ...options, headers });
    }
  } as unknown as typeof globalThis.WebSocket;
}
