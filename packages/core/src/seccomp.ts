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
import { parseSeccompPolicy, SeccompError, X32_SYSCALL_BIT, type ArgCondition, type SeccompAction, type SeccompPolicy, type SeccompRule } from "./seccomp-policy.ts";

export { serializeFilter, type BpfInstruction } from "./bpf.ts";
export * from "./seccomp-policy.ts";

export const AUDIT_ARCH_X86_64 = 0xc000003e;

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

// struct seccomp_data: int nr; u32 arch; u64 instruction_pointer; u64 args[6].
const OFFSET_NR = 0;
const OFFSET_ARCH = 4;
const argOffset = (index: number, half: "lo" | "hi"): number => 16 + 8 * index + (half === "hi" ? 4 : 0);

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
