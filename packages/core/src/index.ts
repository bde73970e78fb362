export * from "./states.ts";
export * from "./names.ts";
export * from "./events.ts";
export * from "./config.ts";
export * from "./capabilities.ts";
export * from "./signals.ts";
export { splitCommandLine, quoteCommandLine } from "./shell-words.ts";
export { anchorIncludes, parseLxcConfig, type ParseOptions, type ParseResult } from "./lxc-config.ts";
export { ConfigError, type ConfigIO, type ConfigIssue } from "./lxc-config-context.ts";
export { lxcConfigItem, writeLxcConfig } from "./lxc-config-write.ts";
export {
  AUDIT_ARCH_X86_64,
  SECCOMP_RET,
  SeccompError,
  X32_SYSCALL_BIT,
  actionValue,
  compileSeccomp,
  compileSeccompPolicy,
  parseSeccompPolicy,
  type ArgCondition,
  type ArgOp,
  type CompiledSeccomp,
  type SeccompAction,
  type SeccompPolicy,
  type SeccompRule,
} from "./seccomp.ts";
export { BPF, serializeFilter, type BpfInstruction } from "./bpf.ts";
export { X86_64_SYSCALLS, syscallNumber } from "./syscalls-x86_64.ts";
export * from "./wire.ts";
export * as rtnetlink from "./netlink.ts";
export { isIPv4, isIPv6, parseIPv4, parseIPv6 } from "./ip.ts";
export * from "./errno.ts";
export * from "./words.ts";
export * from "./cgroup-stats.ts";
export * from "./samples.ts";
export { selfStopCause, stopOf, stopReason, stopWords, type RunEnd, type StopReason } from "./stop-reason.ts";
export * from "./restart-policy.ts";
export * from "./alerts.ts";
export * from "./tls-pin.ts";
export * from "./agent-problems.ts";
export * from "./idmap.ts";
