// Writes a ContainerConfig as an LXC config file that liblxc (lxc-info, lxc-monitor, ...) loads:
// standard keys only, never an invented lxc.* key, because liblxc refuses a whole file over one
// unknown key. parseLxcConfig(writeLxcConfig(c)) deep-equals c.

import type { ContainerConfig, MountEntry, NetConfig } from "./config.ts";
import { quoteCommandLine } from "./shell-words.ts";
import { formatIdMapLine } from "./idmap.ts";

type Line = [key: string, value: string | number | undefined];

export function writeLxcConfig(config: ContainerConfig): string {
  return lxcConfigItems(config)
    .map(([key, value]) => `${key} = ${formatValue(key, value)}\n`)
    .join("");
}

/**
 * A key's value as liblxc's get_config_item gives it (LXC_CMD_GET_CONFIG_ITEM, `lxc-info -c`):
 * the values of a repeated key one per line; undefined when the config does not set it.
 */
export function lxcConfigItem(config: ContainerConfig, key: string): string | undefined {
  const values = lxcConfigItems(config).filter(([k]) => k === key).map(([, v]) => v);
  return values.length ? values.join("\n") : undefined;
}

/** Every key the config sets, in file order, with its value unquoted. */
function lxcConfigItems(config: ContainerConfig): Array<[key: string, value: string]> {
  const lines: Line[] = [
    ["lxc.uts.name", config.utsname],
    ...rootfsLines(config),
    ...mountAutoLines(config),
    ...config.mountEntries.map((m): Line => ["lxc.mount.entry", formatMountEntry(m)]),
    ["lxc.autodev", config.autodev ? undefined : 0],
    ["lxc.tty.max", config.ttyMax || undefined],
    ["lxc.pty.max", config.ptyMax || undefined],
    ["lxc.cap.drop", config.capDrop.join(" ") || undefined],
    ["lxc.cap.keep", config.capKeep.join(" ") || undefined],
    ...config.cgroups.map((c): Line => [`lxc.cgroup${c.version === 2 ? "2" : ""}.${c.key}`, c.value]),
    ...config.net.flatMap(netLines),
    ["lxc.init.cmd", config.init.cmd?.length ? quoteCommandLine(config.init.cmd) : undefined],
    ["lxc.init.cwd", config.init.cwd],
    ["lxc.init.uid", config.init.uid],
    ["lxc.init.gid", config.init.gid],
    ...config.environment.map((e): Line => ["lxc.environment", e]),
    ["lxc.console.logfile", config.console.logfile],
    ["lxc.console.path", config.console.path],
    ["lxc.signal.halt", config.signals.halt],
    ["lxc.signal.reboot", config.signals.reboot],
    ["lxc.signal.stop", config.signals.stop],
    ...config.hooks.preStart.map((h): Line => ["lxc.hook.pre-start", h]),
    ...config.hooks.start.map((h): Line => ["lxc.hook.start", h]),
    ...config.hooks.postStop.map((h): Line => ["lxc.hook.post-stop", h]),
    ["lxc.start.auto", config.start.auto ? 1 : undefined],
    ["lxc.start.delay", config.start.delay || undefined],
    ["lxc.start.order", config.start.order || undefined],
    ["lxc.seccomp.profile", config.seccompProfile],
    ["lxc.apparmor.profile", config.apparmorProfile],
    ...config.idmap.map((r): Line => ["lxc.idmap", formatIdMapLine(r)]),
  ];
  return lines.filter((l): l is [string, string | number] => l[1] !== undefined).map(([key, value]) => [key, String(value)]);
}

function rootfsLines(config: ContainerConfig): Line[] {
  if (!config.rootfs) return [];
  const { path, options } = config.rootfs;
  // A path that looks like "backend:..." would be read back as a storage backend.
  const value = /^[a-z0-9]+:/.test(path) ? `dir:${path}` : path;
  return [["lxc.rootfs.path", value], ["lxc.rootfs.options", options]];
}

function mountAutoLines(config: ContainerConfig): Line[] {
  const { proc, sys, cgroup } = config.mountAuto;
  const tokens = [proc && `proc:${proc}`, sys && `sys:${sys}`, cgroup].filter(Boolean);
  return tokens.length ? [["lxc.mount.auto", tokens.join(" ")]] : [];
}

function netLines(net: NetConfig): Line[] {
  const k = `lxc.net.${net.index}`;
  return [
    [`${k}.type`, net.type],
    [`${k}.link`, net.link],
    [`${k}.name`, net.name],
    [`${k}.hwaddr`, net.hwaddr],
    [`${k}.flags`, net.flags],
    [`${k}.mtu`, net.mtu],
    [`${k}.veth.pair`, net.vethPair],
    ...net.ipv4Addresses.map((a): Line => [`${k}.ipv4.address`, a]),
    [`${k}.ipv4.gateway`, net.ipv4Gateway],
    ...net.ipv6Addresses.map((a): Line => [`${k}.ipv6.address`, a]),
    [`${k}.ipv6.gateway`, net.ipv6Gateway],
  ];
}

/** fstab escapes, as getmntent(3) reads them back: blanks and backslashes as octal. */
function encodeFstabField(field: string): string {
  if (field === "") throw new Error("a mount entry field is empty");
  return field.replace(/[\\ \t\n]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, "0")}`);
}

function formatMountEntry(m: MountEntry): string {
  const options = m.options.length ? m.options.join(",") : "defaults";
  return [m.source, m.target, m.fstype, options].map(encodeFstabField).concat(String(m.dump), String(m.pass)).join(" ");
}

/**
 * One value on one line. A newline would let a value smuggle in other keys, and an empty value
 * would reset the key, so both are refused. Values that liblxc would trim or unquote are quoted.
 */
function formatValue(key: string, value: string): string {
  if (/[\n\r\0]/.test(value)) throw new Error(`${key}: value contains a line break or NUL: ${JSON.stringify(value)}`);
  if (value === "") throw new Error(`${key}: an empty value would reset the key`);
  const first = value.charAt(0);
  const quoted = value.length > 1 && (first === '"' || first === "'") && value.endsWith(first);
  return quoted || value !== value.trim() ? `"${value}"` : value;
}
