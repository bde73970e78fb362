// Linux capability names (as LXC spells them in lxc.cap.drop/keep: lower case, no "CAP_")
// indexed by their number, from <linux/capability.h> up to CAP_CHECKPOINT_RESTORE (40).

export const CAPABILITIES: readonly string[] = [
  "chown", // 0
  "dac_override",
  "dac_read_search",
  "fowner",
  "fsetid",
  "kill", // 5
  "setgid",
  "setuid",
  "setpcap",
  "linux_immutable",
  "net_bind_service", // 10
  "net_broadcast",
  "net_admin",
  "net_raw",
  "ipc_lock",
  "ipc_owner", // 15
  "sys_module",
  "sys_rawio",
  "sys_chroot",
  "sys_ptrace",
  "sys_pacct", // 20
  "sys_admin",
  "sys_boot",
  "sys_nice",
  "sys_resource",
  "sys_time", // 25
  "sys_tty_config",
  "mknod",
  "lease",
  "audit_write",
  "audit_control", // 30
  "setfcap",
  "mac_override",
  "mac_admin",
  "syslog",
  "wake_alarm", // 35
  "block_suspend",
  "audit_read",
  "perfmon",
  "bpf",
  "checkpoint_restore", // 40
];

export const CAP_LAST_CAP = CAPABILITIES.length - 1;

/** Capability number for a name ("sys_admin"), or undefined. */
export function capabilityNumber(name: string): number | undefined {
  const n = CAPABILITIES.indexOf(name);
  return n >= 0 ? n : undefined;
}

/**
 * Accept what LXC accepts: a lower-case name, or a number within the table.
 * Returns the canonical name, or undefined when it is not a capability.
 */
export function parseCapability(token: string): string | undefined {
  if (capabilityNumber(token) !== undefined) return token;
  if (/^\d+$/.test(token)) return CAPABILITIES[Number(token)];
  return undefined;
}
