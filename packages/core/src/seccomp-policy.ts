// LXC seccomp policy files (lxc.seccomp.profile; format from LXC's src/lxc/seccomp.c), parsed
// into rules of x86_64 syscall numbers; seccomp.ts compiles them to BPF. The format is described
// at the top of seccomp.ts.
import { ERRNO } from "./errno.ts";
import { syscallNumber } from "./syscalls-x86_64.ts";

/** The bit that marks an x32 syscall number (same arch value as x86_64). */
export const X32_SYSCALL_BIT = 0x40000000;

const MNT_FORCE = 1;

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
