// The tools corral is measured against, each run from this harness on the same busybox rootfs:
// lxc-start -F (LXC 5.0), runc run, and `unshare -fpmuin --mount-proc` as the kernel's floor.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface Peer {
  name: string;
  /** one whole lifecycle of /bin/true; rejects on a failure (a function property: passed around unbound) */
  run: (i: number) => Promise<void>;
}

export interface Skipped {
  peer: string;
  reason: string;
}

/** Run a command to its end; reject with its output if it fails. */
export function runCommand(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    child.on("error", reject);
    child.on("exit", (code, signal) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(" ")}: ${signal ?? code}: ${err.trim().slice(-300)}`))));
  });
}

/** Whether a command is on the PATH. */
export function have(cmd: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/**
 * Install what the bench compares against (Debian's lxc, runc, busybox-static) if missing; for the
 * system section also what `lxc-create -t debian` and the bench's DHCP need.
 */
export function installPeers(system: boolean): void {
  const wanted = [["lxc-start", "lxc"], ["runc", "runc"], ["busybox", "busybox-static"]];
  if (system) wanted.push(["debootstrap", "debootstrap"], ["dnsmasq", "dnsmasq-base"], ["/usr/share/lxc/templates/lxc-debian", "lxc-templates"]);
  const missing = [...new Set(wanted.filter(([cmd]) => !(cmd!.startsWith("/") ? existsSync(cmd!) : have(cmd!))).map(([, pkg]) => pkg!))];
  if (missing.length === 0) return;
  process.stderr.write(`bench: installing ${missing.join(" ")}\n`);
  try {
    execFileSync("sh", ["-c", `apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${missing.join(" ")}`], { stdio: "ignore" });
  } catch {
    process.stderr.write("bench: could not install them; the peers that need them are skipped\n");
  }
}

/** lxc-start -F on a config that matches corral's busybox container (no network, same mounts). */
export function lxcPeer(workdir: string, rootfs: string, skipped: Skipped[]): Peer | undefined {
  if (!have("lxc-start")) return void skipped.push({ peer: "lxc_start", reason: "lxc-start is not installed" });
  const lxcpath = join(workdir, "lxc-peer");
  mkdirSync(join(lxcpath, "peer"), { recursive: true });
  writeFileSync(join(lxcpath, "peer", "config"), [
    `lxc.rootfs.path = dir:${rootfs}`,
    "lxc.uts.name = peer",
    "lxc.mount.auto = proc:mixed sys:ro",
    "lxc.autodev = 1",
    "lxc.cap.drop = sys_module mac_admin mac_override sys_time",
    // corral's busybox container shares the host's network: so does this one.
    "lxc.net.0.type = none",
    "lxc.apparmor.profile = unconfined",
    "",
  ].join("\n"));
  return { name: "lxc_start", run: () => runCommand("lxc-start", ["-P", lxcpath, "-n", "peer", "-F", "--", "/bin/true"]) };
}

/** runc run of an OCI bundle over the same rootfs, /bin/true, no terminal. */
export function runcPeer(workdir: string, rootfs: string, skipped: Skipped[]): Peer | undefined {
  if (!have("runc")) return void skipped.push({ peer: "runc", reason: "runc is not installed" });
  const bundle = join(workdir, "runc-bundle");
  mkdirSync(bundle, { recursive: true });
  if (!existsSync(join(bundle, "config.json"))) execFileSync("runc", ["spec", "-b", bundle]);
  const spec = JSON.parse(execFileSync("cat", [join(bundle, "config.json")], { encoding: "utf8" }));
  spec.process.terminal = false;
  spec.process.args = ["/bin/true"];
  spec.root = { path: rootfs, readonly: false };
  spec.hostname = "peer";
  // Like the other peers: no network namespace.
  spec.linux.namespaces = spec.linux.namespaces.filter((n: { type: string }) => n.type !== "network");
  writeFileSync(join(bundle, "config.json"), JSON.stringify(spec, null, 2));
  const root = join(workdir, "runc-state");
  return { name: "runc", run: (i) => runCommand("runc", ["--root", root, "run", "-b", bundle, `bench-${process.pid}-${i}`]) };
}

export function floorPeer(skipped: Skipped[]): Peer | undefined {
  if (!have("unshare")) return void skipped.push({ peer: "floor", reason: "unshare (util-linux) is not installed" });
  return { name: "floor", run: () => runCommand("unshare", ["-fpmuin", "--mount-proc", "/bin/true"]) };
}
