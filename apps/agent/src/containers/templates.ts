// Container templates: they write a standard LXC config and lay out a rootfs, as lxc-create's
// templates do. Runs on the host, inside <lxcpath>/<name>/ only.
//   host     an application container: the host's /usr (and /bin, /sbin, /lib* where they are not
//            links into /usr) bound read-only, a private /tmp, /proc, /sys and a minimal /dev.
//   busybox  like lxc-busybox: the host's static busybox copied in, with a link per applet.
//   debian   like lxc-debian: a Debian with systemd, built once and cached (debian.ts); it takes
//            a while the first time, so create.ts makes it asynchronously, with progress.
import { copyFileSync, existsSync, lstatSync, mkdirSync, readlinkSync, symlinkSync, writeFileSync, chmodSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { dirname, join, relative } from "node:path";
import { emptyConfig, writeLxcConfig, type ContainerConfig } from "@corral/core";

export const TEMPLATES = ["host", "busybox", "debian"] as const;
export type TemplateName = (typeof TEMPLATES)[number];
/** The templates laid out at once, without downloading anything. */
export type QuickTemplateName = Exclude<TemplateName, "debian">;

export function isTemplate(name: string): name is TemplateName {
  return (TEMPLATES as readonly string[]).includes(name);
}

const HOST_DIRS = ["bin", "sbin", "lib", "lib32", "lib64", "libx32"];
const BUSYBOX = "/bin/busybox";

/** What every template shares: LXC's usual mounts, hostname, capability drops, shell as init. */
function baseConfig(name: string, rootfs: string): ContainerConfig {
  const config = emptyConfig();
  config.utsname = name;
  config.rootfs = { path: rootfs };
  config.mountAuto = { proc: "mixed", sys: "ro" };
  config.autodev = true;
  config.capDrop = ["sys_module", "mac_admin", "mac_override", "sys_time"];
  config.init = { cmd: ["/bin/sh"] };
  return config;
}

function writeEtc(rootfs: string, name: string): void {
  mkdirSync(join(rootfs, "etc"), { recursive: true });
  writeFileSync(join(rootfs, "etc/hostname"), `${name}\n`);
  writeFileSync(join(rootfs, "etc/hosts"), `127.0.0.1 localhost\n127.0.1.1 ${name}\n`);
  writeFileSync(join(rootfs, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n");
  writeFileSync(join(rootfs, "etc/group"), "root:x:0:\ntty:x:5:\nnogroup:x:65534:\n");
}

function makeDirs(rootfs: string, dirs: string[]): void {
  for (const d of dirs) mkdirSync(join(rootfs, d), { recursive: true });
  chmodSync(join(rootfs, "tmp"), 0o1777);
}

/** Lay out the host template's rootfs and return its config. */
export function hostTemplate(name: string, rootfs: string): ContainerConfig {
  makeDirs(rootfs, ["usr", "tmp", "proc", "sys", "dev", "root", "etc"]);
  writeEtc(rootfs, name);
  const config = baseConfig(name, rootfs);
  config.mountEntries.push({ source: "/usr", target: "usr", fstype: "none", options: ["ro", "bind"], dump: 0, pass: 0 });
  for (const d of HOST_DIRS) {
    const host = `/${d}`;
    if (!existsSync(host)) continue;
    if (lstatSync(host).isSymbolicLink()) {
      // Merged /usr: the same link inside, pointing into the bound /usr.
      symlinkSync(readlinkSync(host), join(rootfs, d));
    } else {
      mkdirSync(join(rootfs, d), { recursive: true });
      config.mountEntries.push({ source: host, target: d, fstype: "none", options: ["ro", "bind"], dump: 0, pass: 0 });
    }
  }
  config.mountEntries.push({ source: "tmpfs", target: "tmp", fstype: "tmpfs", options: ["rw", "nosuid", "nodev", "mode=1777"], dump: 0, pass: 0 });
  return config;
}

/** Lay out the busybox template's rootfs (lxc-busybox) and return its config. */
export function busyboxTemplate(name: string, rootfs: string): ContainerConfig {
  if (!existsSync(BUSYBOX)) throw new Error(`the busybox template needs a static busybox at ${BUSYBOX} (Debian: busybox-static)`);
  makeDirs(rootfs, ["bin", "sbin", "usr/bin", "usr/sbin", "tmp", "proc", "sys", "dev", "root", "etc", "var/log", "home"]);
  writeEtc(rootfs, name);
  copyFileSync(BUSYBOX, join(rootfs, "bin/busybox"));
  chmodSync(join(rootfs, "bin/busybox"), 0o755);
  const applets = execFileSync(BUSYBOX, ["--list-full"], { encoding: "utf8" }).split("\n").filter(Boolean);
  for (const applet of applets) {
    const link = join(rootfs, applet);
    if (existsSync(link) || applet === "bin/busybox") continue;
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(relative(dirname(link), join(rootfs, "bin/busybox")), link);
  }
  const config = baseConfig(name, rootfs);
  return config;
}

export function applyTemplate(template: QuickTemplateName, name: string, rootfs: string): ContainerConfig {
  mkdirSync(rootfs, { recursive: true, mode: 0o755 });
  return template === "host" ? hostTemplate(name, rootfs) : busyboxTemplate(name, rootfs);
}

export function configText(config: ContainerConfig, template?: string, what?: string): string {
  const header = template ? `# Made by corral's "${template}" template${what ? `: ${what}` : ""}.\n` : "";
  return header + writeLxcConfig(config);
}
