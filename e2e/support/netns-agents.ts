// Agents on hosts of their own, as far as the network goes: each in a network namespace with a
// veth to this host, listening on its address and so speaking TLS only. Entered with `nsenter
// --net=...`: `ip netns exec` would mount a /sys of its own, without the host's cgroups. Names and
// a /16 unique to this process, so that runs beside each other do not meet.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./paths.ts";

const PORT = 7690;

export interface NetnsAgent {
  index: number;
  url: string;
  token: string;
  /** the certificate's fingerprint the agent printed when it started */
  fingerprint: string;
  /** start it (again: the same lxcpath, so the same certificate) */
  start(): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

const ip = (...args: string[]) => execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"] });

export async function startNetnsAgents(count: number): Promise<{ agents: NetnsAgent[]; close(): Promise<void> }> {
  const tag = `cfe${process.pid % 100000}`;
  const net = `10.${150 + (process.pid % 100)}`;
  const made: { ns: string; veth: string; lxcpath: string }[] = [];
  const agents: NetnsAgent[] = [];
  for (let i = 0; i < count; i++) {
    const ns = `${tag}-${i}`;
    const veth = `${tag}${i}`;
    const lxcpath = mkdtempSync(join(tmpdir(), "corral-e2e-fleet-"));
    made.push({ ns, veth, lxcpath });
    ip("netns", "add", ns);
    ip("link", "add", `${veth}h`, "type", "veth", "peer", "name", `${veth}n`);
    ip("link", "set", `${veth}n`, "netns", ns);
    ip("addr", "add", `${net}.${i}.1/24`, "dev", `${veth}h`);
    ip("link", "set", `${veth}h`, "up");
    ip("-n", ns, "addr", "add", `${net}.${i}.2/24`, "dev", `${veth}n`);
    ip("-n", ns, "link", "set", `${veth}n`, "up");
    ip("-n", ns, "link", "set", "lo", "up");
    let proc: ChildProcess | undefined;
    const agent: NetnsAgent = {
      index: i, url: `https://${net}.${i}.2:${PORT}`, token: randomBytes(24).toString("hex"), fingerprint: "",
      start: async () => {
        const child = spawn("nsenter", [`--net=/run/netns/${ns}`, process.execPath, join(ROOT, "apps/agent/bin/corral.mjs"), "agent", "--lxcpath", lxcpath, "--listen", `${net}.${i}.2:${PORT}`], {
          env: { ...process.env, CORRAL_TOKEN: agent.token }, stdio: ["ignore", "pipe", "pipe"],
        });
        proc = child;
        let log = "";
        agent.fingerprint = await new Promise<string>((resolve, reject) => {
          child.stdout.on("data", (d: Buffer) => {
            log += d.toString();
            const m = /"agent listening".*"fingerprint":"([0-9a-f]{64})"/.exec(log);
            if (m) resolve(m[1]!);
          });
          child.on("exit", (code) => reject(new Error(`agent ${i} exited with ${code}: ${log}`)));
        });
      },
      stop: (signal = "SIGTERM") => new Promise<void>((resolve) => {
        if (!proc || proc.exitCode !== null || proc.signalCode !== null) {
          resolve();
          return;
        }
        proc.once("exit", () => resolve());
        proc.kill(signal);
      }),
    };
    agents.push(agent);
  }
  // two at a time: this machine has two cores
  for (let i = 0; i < agents.length; i += 2) await Promise.all(agents.slice(i, i + 2).map((a) => a.start()));
  return {
    agents,
    close: async () => {
      await Promise.all(agents.map((a) => a.stop()));
      for (const m of made) {
        for (const args of [["netns", "del", m.ns], ["link", "del", `${m.veth}h`]]) {
          try {
            ip(...args);
          } catch (e) {
            if (!(e instanceof Error)) throw e; // already gone with its namespace
          }
        }
        rmSync(m.lxcpath, { recursive: true, force: true });
      }
    },
  };
}
