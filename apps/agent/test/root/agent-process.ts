// A real agent in its own process, for the root tests of the API: started, killed and restarted.
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";
import { agentHeaders, connect } from "../../src/cli/client.ts";
import { streamClient } from "../../src/cli/streams.ts";

const REPO = join(import.meta.dirname, "../../../..");

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

export class AgentProcess {
  private child: ChildProcess | undefined;
  log = "";

  constructor(
    readonly lxcpath: string,
    readonly port: number,
    readonly token: string,
  ) {}

  /** The agent's pid while it runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.log = "";
    const child = spawn(process.execPath, ["--import", "tsx", join(REPO, "apps/agent/src/cli/main.ts"), "agent", "--lxcpath", this.lxcpath, "--listen", `127.0.0.1:${this.port}`], {
      cwd: REPO,
      env: { ...process.env, CORRAL_TOKEN: this.token, CORRAL_ALLOWED_ORIGINS: "http://allowed.example" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child = child;
    child.stdout.on("data", (d) => (this.log += d));
    child.stderr.on("data", (d) => (this.log += d));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`agent did not start: ${this.log}`)), 20_000);
      const check = () => {
        if (this.log.includes("agent listening")) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout.on("data", check);
      child.on("exit", (code) => reject(new Error(`agent exited with ${code}: ${this.log}`)));
    });
  }

  /** End it: SIGTERM stops it cleanly; SIGKILL is a crash. */
  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill(signal);
    await exited;
    this.child = undefined;
  }

  /** The CLI's HTTP client, and a WebSocket client made at once when asked (the CLI loads it on demand). */
  client(actor = "test") {
    const target = { url: this.url, token: this.token };
    let ws: ReturnType<typeof streamClient> | undefined;
    const conn = connect(target, actor);
    return {
      http: conn.http,
      streams: () => (ws ??= streamClient(this.url, agentHeaders(target, actor))).client,
      close: () => ws?.close(),
    };
  }
}
