// LXC seccomp policies (lxc.seccomp.profile; format from LXC's src/lxc/seccomp.c) compiled
// to a classic BPF program for seccomp(SECCOMP_SET_MODE_FILTER), for x86_64 hosts.
//
// Version 1: line 1 "1", line 2 "allowlist", then one syscall number per line (allowed);
//   everything else kills.
// Version 2: line 1 "2", line 2 "denylist" | "allowlist" (old names blacklist/blocklist/
//   whitelist too), optionally followed by the default action; then lines of
//   `reject_force_umount`, `[section]` headers, and rules `syscall [action] [arg filters]`.
//   action: `allow` | `kill` | `trap` | `log` | `errno N`. A rule with no action kills in a
//   denylist and allows in an allowlist. `notify` and `trace` are refused: corral has no
//   seccomp notification proxy and no tracer.
//
// The program:  check arch == x86_64 (else bad-arch action)  →  load nr, refuse x32 numbers
// (bit 30, which share the x86_64 arch value and would otherwise slip past every rule)  →
// one block per rule, first match wins  →  default action.

import { BPF, BPF_MAXINSNS, BpfAssembler, NEXT, type BpfInstruction, type Target } from "./bpf.ts";
import { syscallNumber } from "./syscalls-x86_64.ts";
import { ERRNO } from "./errno.ts";

export { serializeFilter, type BpfInstruction } from "./bpf.ts";

export const AUDIT_ARCH_X86_64 = 0xc000003e;
export const X32_SYSCALL_BIT = 0x40000000;

/** SECCOMP_RET_* from <linux/seccomp.h>. */
export const SECCOMP_RET = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0x00000000,
  TRAP: 0x00030000,
  ERRNO: 0x00050000,
  USER_NOTIF: 0x7fc00000,
  TRACE: 0x7ff00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
} as const;

const MNT_FORCE = 1;

// struct seccomp_data: int nr; u32 arch; u64 instruction_pointer; u64 args[6].
const OFFSET_NR = 0;
const OFFSET_ARCH = 4;
const argOffset = (index: number, half: "lo" | "hi"): number => 16 + 8 * index + (half === "hi" ? 4 : 0);

export type SeccompAction =
  | { kind: "allow" }
  | { kind: "kill" }
  | { kind: "trap" }
  | { kind: "log" }
  | { kind: "errno"; errno: number };

export type ArgOp = "eq" | "ne" | "lt" | "le" | "gt" | "ge" | "masked_eq";

/** args[index] OP value; for masked_eq: (args[index] & mask) == value. */
export interface ArgCondition {
  index: number;
  op: ArgOp;
  value: bigint;
  mask: bigint;
}

export interface SeccompRule {
  syscall: string;
  nr: number;
  action: SeccompAction;
  /** all must hold (AND), as in libseccomp */
  args: ArgCondition[];
  /** 1-based line in the policy text (0 for rules the compiler adds) */
  line: number;
}

export interface SeccompPolicy {
  version: 1 | 2;
  mode: "denylist" | "allowlist";
  defaultAction: SeccompAction;
  rules: SeccompRule[];
  warnings: string[];
}

export class SeccompError extends Error {
  constructor(
    readonly line: number,
    readonly reason: string,
  ) {
    super(`seccomp policy line ${line}: ${reason}`);
    this.name = "SeccompError";
  }
}

// ---- parsing -------------------------------------------------------------------------------

const DENYLIST_WORDS = ["denylist", "blacklist", "blocklist"];
const ALLOWLIST_WORDS = ["allowlist", "whitelist"];
const NATIVE_SECTIONS = ["all", "x86_64", "amd64"];
const FOREIGN_SECTIONS = [
  "x86", "i386", "x32", "arm", "armel", "armhf", "arm64", "aarch64", "mips", "mipsel", "mips64",
  "mipsel64", "mips64n32", "mipsel64n32", "ppc", "ppc64", "ppc64le", "s390", "s390x", "riscv64",
];

const ARG_OPS: Readonly<Record<string, ArgOp>> = {
  SCMP_CMP_EQ: "eq", "==": "eq",
  SCMP_CMP_NE: "ne", "!=": "ne",
  SCMP_CMP_LT: "lt", "<": "lt",
  SCMP_CMP_LE: "le", "<=": "le",
  SCMP_CMP_GT: "gt", ">": "gt",
  SCMP_CMP_GE: "ge", ">=": "ge",
  SCMP_CMP_MASKED_EQ: "masked_eq", "&=": "masked_eq",
};

type Line = { text: string; line: number };

export function parseSeccompPolicy(text: string): SeccompPolicy {
  const lines = text.split("\n").map((raw, i): Line => ({ text: stripComment(raw), line: i + 1 }));
  const version = lines[0]?.text;
  if (version === "1") return parseV1(lines.slice(1));
  if (version === "2") return parseV2(lines.slice(1));
  throw new SeccompError(1, `unsupported policy version ${JSON.stringify(version ?? "")} (expected 1 or 2)`);
}

/** "#" starts a comment anywhere: no policy syntax uses it. */
function stripComment(raw: string): string {
  const hash = raw.indexOf("#");
  return (hash < 0 ? raw : raw.slice(0, hash)).trim();
}

function parseV1(lines: Line[]): SeccompPolicy {
  const [header, ...body] = lines;
  if (!header || !ALLOWLIST_WORDS.includes(header.text)) {
    throw new SeccompError(2, 'a version 1 policy must say "allowlist" on its second line');
  }
  const rules = body
    .filter((l) => l.text !== "")
    .map((l): SeccompRule => {
      if (!/^\d+$/.test(l.text) || Number(l.text) >= X32_SYSCALL_BIT) throw new SeccompError(l.line, `${JSON.stringify(l.text)} is not a syscall number`);
      return { syscall: l.text, nr: Number(l.text), action: { kind: "allow" }, args: [], line: l.line };
    });
  return { version: 1, mode: "allowlist", defaultAction: { kind: "kill" }, rules, warnings: [] };
}

function parseV2(lines: Line[]): SeccompPolicy {
  const [header, ...body] = lines;
  const [style = "", ...defaultWords] = (header?.text ?? "").split(/\s+/);
  const mode = DENYLIST_WORDS.includes(style) ? "denylist" : ALLOWLIST_WORDS.includes(style) ? "allowlist" : undefined;
  if (!mode) throw new SeccompError(2, `expected "denylist" or "allowlist" on the second line, got ${JSON.stringify(header?.text ?? "")}`);
  const defaultAction = defaultWords.length
    ? parseAction(defaultWords, 2)
    : mode === "denylist" ? { kind: "allow" as const } : { kind: "kill" as const };
  const ruleDefault: SeccompAction = mode === "denylist" ? { kind: "kill" } : { kind: "allow" };

  const policy: SeccompPolicy = { version: 2, mode, defaultAction, rules: [], warnings: [] };
  let native = true; // rules before any section header apply to every architecture
  for (const { text, line } of body) {
    if (text === "") continue;
    if (text.startsWith("[")) {
      native = parseSection(text, line, policy.warnings);
    } else if (text === "reject_force_umount" || text.startsWith("reject_force_umount ")) {
      if (native) policy.rules.push(rejectForceUmount(line));
    } else if (native) {
      const rule = parseRule(text, line, ruleDefault);
      // LXC skips a syscall this architecture does not have (with a log line): so does corral.
      if (rule) policy.rules.push(rule);
      else policy.warnings.push(`line ${line}: ${JSON.stringify(text.split(/\s+/)[0])} is not an x86_64 system call; the rule is skipped, as LXC does`);
    }
  }
  return policy;
}

/** true when the section's rules apply here (x86_64). */
function parseSection(text: string, line: number, warnings: string[]): boolean {
  const section = /^\[([A-Za-z0-9_]+)\]$/.exec(text)?.[1]?.toLowerCase();
  if (section && NATIVE_SECTIONS.includes(section)) return true;
  if (section && FOREIGN_SECTIONS.includes(section)) {
    warnings.push(`line ${line}: section [${section}] skipped: only x86_64 syscalls are filtered; other architectures are denied outright`);
    return false;
  }
  throw new SeccompError(line, `unknown section ${text}`);
}

/** LXC's reject_force_umount: umount2(path, flags & MNT_FORCE) fails with EACCES. */
function rejectForceUmount(line: number): SeccompRule {
  return {
    syscall: "umount2",
    nr: syscallNumber("umount2") ?? 166,
    action: { kind: "errno", errno: ERRNO.EACCES },
    args: [{ index: 1, op: "masked_eq", mask: BigInt(MNT_FORCE), value: BigInt(MNT_FORCE) }],
    line,
  };
}

/** One rule line; undefined when it names no x86_64 system call. */
function parseRule(text: string, line: number, ruleDefault: SeccompAction): SeccompRule | undefined {
  const filters = text.match(/\[[^\]]*\]/g) ?? [];
  const words = text.replace(/\[[^\]]*\]/g, " ").split(/\s+/).filter(Boolean);
  const [syscall = "", ...actionWords] = words;
  const nr = syscallNumber(syscall);
  if (nr === undefined) return undefined;
  if (filters.length > 6) throw new SeccompError(line, "at most 6 argument filters");
  return {
    syscall,
    nr,
    action: actionWords.length ? parseAction(actionWords, line) : ruleDefault,
    args: filters.map((f) => parseArgFilter(f, line)),
    line,
  };
}

function parseAction(words: string[], line: number): SeccompAction {
  const [verb = "", arg, ...extra] = words;
  const expectNoArgument = (action: SeccompAction): SeccompAction => {
    if (arg !== undefined) throw new SeccompError(line, `unexpected ${JSON.stringify(arg)} after "${verb}"`);
    return action;
  };
  switch (verb) {
    case "allow":
      return expectNoArgument({ kind: "allow" });
    case "kill":
      return expectNoArgument({ kind: "kill" });
    case "trap":
      return expectNoArgument({ kind: "trap" });
    case "log":
      return expectNoArgument({ kind: "log" });
    case "errno": {
      if (arg === undefined || !/^\d+$/.test(arg) || Number(arg) > 4095 || extra.length) {
        throw new SeccompError(line, `"errno" needs one number from 0 to 4095`);
      }
      return { kind: "errno", errno: Number(arg) };
    }
    case "notify":
      throw new SeccompError(line, '"notify" is not supported: corral has no seccomp notification proxy');
    case "trace":
      throw new SeccompError(line, '"trace" is not supported: corral attaches no tracer');
    default:
      throw new SeccompError(line, `unknown action ${JSON.stringify(verb)}`);
  }
}

/** LXC's `[index,value,op]` or `[index,value,op,mask]` (the mask is for SCMP_CMP_MASKED_EQ). */
function parseArgFilter(filter: string, line: number): ArgCondition {
  const parts = filter.slice(1, -1).split(",").map((p) => p.trim());
  const [index = "", value = "", opName = "", mask] = parts;
  const op = ARG_OPS[opName];
  if (parts.length < 3 || parts.length > 4 || !/^[0-5]$/.test(index) || !op) {
    throw new SeccompError(line, `bad argument filter ${filter}; expected [index 0-5,value,SCMP_CMP_*] or [index,value,SCMP_CMP_MASKED_EQ,mask]`);
  }
  if (op === "masked_eq" && mask === undefined) throw new SeccompError(line, `${filter}: SCMP_CMP_MASKED_EQ needs a mask`);
  return { index: Number(index), op, value: u64(value, filter, line), mask: mask === undefined ? 0n : u64(mask, filter, line) };
}

/** A filter value as LXC reads it (strtoull with base 0): 0x hex, leading-0 octal, or decimal. */
function u64(text: string, filter: string, line: number): bigint {
  if (!/^(0x[0-9a-fA-F]+|0[0-7]*|[1-9]\d*)$/.test(text)) throw new SeccompError(line, `${filter}: ${JSON.stringify(text)} is not a number`);
  const n = /^0[0-7]+$/.test(text) ? BigInt(`0o${text.slice(1)}`) : BigInt(text);
  if (n >= 1n << 64n) throw new SeccompError(line, `${filter}: ${text} does not fit in 64 bits`);
  return n;
}

// ---- compiling -----------------------------------------------------------------------------

export function actionValue(action: SeccompAction): number {
  switch (action.kind) {
    case "allow":
      return SECCOMP_RET.ALLOW;
    case "kill":
      return SECCOMP_RET.KILL_PROCESS;
    case "trap":
      return SECCOMP_RET.TRAP;
    case "log":
      return SECCOMP_RET.LOG;
    case "errno":
      return (SECCOMP_RET.ERRNO | (action.errno & 0xffff)) >>> 0;
  }
}

export interface CompiledSeccomp {
  filter: BpfInstruction[];
  warnings: string[];
}

export function compileSeccomp(text: string): CompiledSeccomp {
  return compileSeccompPolicy(parseSeccompPolicy(text));
}

export function compileSeccompPolicy(policy: SeccompPolicy): CompiledSeccomp {
  const asm = new BpfAssembler();
  const defaultAction = actionValue(policy.defaultAction);
  // A syscall made through another ABI (i386, x32) is not checked against the rules, which name
  // x86_64 numbers: unless the default action refuses the call anyway (kill, trap, errno), kill
  // it, or it would escape every rule (a denylist allows by default, "log" lets it run too).
  const refuses = ["kill", "trap", "errno"].includes(policy.defaultAction.kind);
  const badArchAction = refuses ? defaultAction : SECCOMP_RET.KILL_PROCESS;

  // The bad-arch returns sit right after their checks: a jump to the program's end could
  // exceed classic BPF's 255-instruction reach.
  const archOk = asm.newLabel("arch_ok");
  const nrOk = asm.newLabel("nr_ok");
  asm.load(OFFSET_ARCH);
  asm.jump(BPF.JMP_JEQ_K, AUDIT_ARCH_X86_64, archOk, NEXT);
  asm.ret(badArchAction);
  asm.label(archOk);
  asm.load(OFFSET_NR);
  asm.jump(BPF.JMP_JGE_K, X32_SYSCALL_BIT, NEXT, nrOk);
  asm.ret(badArchAction);
  asm.label(nrOk);
  for (const rule of orderRules(policy.rules)) emitRule(asm, rule);
  asm.ret(defaultAction);

  const filter = asm.finish();
  if (filter.length > BPF_MAXINSNS) throw new SeccompError(0, `the filter has ${filter.length} instructions; the kernel takes at most ${BPF_MAXINSNS}`);
  return { filter, warnings: [...policy.warnings, ...shadowedRuleWarnings(policy.rules)] };
}

/**
 * Rules with argument filters go first (stable otherwise): a plain rule for the same syscall
 * matches every call and would make them dead, while libseccomp lets the specific rule win.
 */
function orderRules(rules: readonly SeccompRule[]): SeccompRule[] {
  return [...rules.filter((r) => r.args.length > 0), ...rules.filter((r) => r.args.length === 0)];
}

function shadowedRuleWarnings(rules: readonly SeccompRule[]): string[] {
  const seen = new Map<number, SeccompRule>();
  const warnings: string[] = [];
  for (const rule of rules.filter((r) => r.args.length === 0)) {
    const first = seen.get(rule.nr);
    if (first) warnings.push(`line ${rule.line}: ${rule.syscall} already has a rule on line ${first.line}; the first one wins`);
    else seen.set(rule.nr, rule);
  }
  return warnings;
}

/** `if (nr == rule.nr && every arg condition) return action;` */
function emitRule(asm: BpfAssembler, rule: SeccompRule): void {
  const next = asm.newLabel(`after_${rule.syscall}`);
  if (rule.args.length === 0) {
    asm.jump(BPF.JMP_JEQ_K, rule.nr, NEXT, next);
    asm.ret(actionValue(rule.action));
    asm.label(next);
    return;
  }
  // The argument checks overwrite A, so a failed check reloads nr for the following rules.
  const reload = asm.newLabel(`reload_after_${rule.syscall}`);
  asm.jump(BPF.JMP_JEQ_K, rule.nr, NEXT, next);
  for (const cond of rule.args) emitCondition(asm, cond, reload);
  asm.ret(actionValue(rule.action));
  asm.label(reload);
  asm.load(OFFSET_NR);
  asm.label(next);
}

const hi32 = (n: bigint): number => Number((n >> 32n) & 0xffffffffn);
const lo32 = (n: bigint): number => Number(n & 0xffffffffn);

/** Falls through when the 64-bit condition holds, jumps to `fail` otherwise. */
function emitCondition(asm: BpfAssembler, c: ArgCondition, fail: Target): void {
  const pass = asm.newLabel("pass");
  const [hi, lo] = [argOffset(c.index, "hi"), argOffset(c.index, "lo")];
  const [vhi, vlo] = [hi32(c.value), lo32(c.value)];
  switch (c.op) {
    case "eq":
      asm.load(hi);
      asm.jump(BPF.JMP_JEQ_K, vhi, NEXT, fail);
      asm.load(lo);
      asm.jump(BPF.JMP_JEQ_K, vlo, NEXT, fail);
      break;
    case "ne":
      asm.load(hi);
      asm.jump(BPF.JMP_JEQ_K, vhi, NEXT, pass);
      asm.load(lo);
      asm.jump(BPF.JMP_JEQ_K, vlo, fail, NEXT);
      break;
    case "masked_eq":
      if (hi32(c.mask) !== 0 || vhi !== 0) {
        asm.load(hi);
        asm.and(hi32(c.mask));
        asm.jump(BPF.JMP_JEQ_K, vhi, NEXT, fail);
      }
      asm.load(lo);
      asm.and(lo32(c.mask));
      asm.jump(BPF.JMP_JEQ_K, vlo, NEXT, fail);
      break;
    case "gt":
    case "ge":
      // hi > vhi passes; hi < vhi fails; equal high words compare the low words.
      asm.load(hi);
      asm.jump(BPF.JMP_JGT_K, vhi, pass, NEXT);
      asm.jump(BPF.JMP_JEQ_K, vhi, NEXT, fail);
      asm.load(lo);
      asm.jump(c.op === "gt" ? BPF.JMP_JGT_K : BPF.JMP_JGE_K, vlo, NEXT, fail);
      break;
    case "lt":
    case "le":
      // The negations of ge and gt.
      asm.load(hi);
      asm.jump(BPF.JMP_JGT_K, vhi, fail, NEXT);
      asm.jump(BPF.JMP_JEQ_K, vhi, NEXT, pass);
      asm.load(lo);
      asm.jump(c.op === "lt" ? BPF.JMP_JGE_K : BPF.JMP_JGT_K, vlo, fail, NEXT);
      break;
  }
  asm.label(pass);
}
