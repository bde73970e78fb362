import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  AUDIT_ARCH_X86_64,
  SECCOMP_RET,
  SeccompError,
  X86_64_SYSCALLS,
  compileSeccomp,
  parseSeccompPolicy,
  serializeFilter,
} from "../src/index.ts";
import { runFilter } from "./bpf-interpreter.ts";

const COMMON_SECCOMP =
  "2\ndenylist\nreject_force_umount  # comment this to allow umount -f;  not recommended\n[all]\nkexec_load errno 1\nopen_by_handle_at errno 1\ninit_module errno 1\nfinit_module errno 1\ndelete_module errno 1\n";
const fixture = (name: string) => readFileSync(new URL(`./fixtures/lxc-config/${name}`, import.meta.url), "utf8");

const ERRNO = (n: number) => (SECCOMP_RET.ERRNO | n) >>> 0;
const X86_64 = AUDIT_ARCH_X86_64;
const AUDIT_ARCH_I386 = 0x40000003;

test("the common.seccomp fixture is Debian's file", () => {
  assert.equal(fixture("common.seccomp"), COMMON_SECCOMP);
});

test("common.seccomp: denied modules and kexec, umount -f refused, the rest allowed", () => {
  const { filter, warnings } = compileSeccomp(COMMON_SECCOMP);
  assert.deepEqual(warnings, []);
  const run = (nr: number, args: bigint[] = [], arch = X86_64) => runFilter(filter, { nr, arch, args });
  assert.equal(run(246), ERRNO(1)); // kexec_load
  assert.equal(run(304), ERRNO(1)); // open_by_handle_at
  assert.equal(run(175), ERRNO(1)); // init_module
  assert.equal(run(313), ERRNO(1)); // finit_module
  assert.equal(run(176), ERRNO(1)); // delete_module
  assert.equal(run(39), SECCOMP_RET.ALLOW); // getpid
  assert.equal(run(166, [0x1000n, 1n]), ERRNO(13)); // umount2(path, MNT_FORCE)
  assert.equal(run(166, [0x1000n, 3n]), ERRNO(13)); // MNT_FORCE|MNT_DETACH
  assert.equal(run(166, [0x1000n, 0n]), SECCOMP_RET.ALLOW);
  assert.equal(run(166, [0x1000n, 2n]), SECCOMP_RET.ALLOW); // MNT_DETACH only
  assert.notEqual(run(246, [], AUDIT_ARCH_I386), SECCOMP_RET.ALLOW);
  assert.notEqual(run(39, [], AUDIT_ARCH_I386), SECCOMP_RET.ALLOW);
  assert.notEqual(run(0x40000000 | 246), SECCOMP_RET.ALLOW); // x32 ABI
});

test("serializeFilter writes struct sock_filter, little-endian", () => {
  const bytes = serializeFilter([{ code: 0x15, jt: 1, jf: 2, k: 0xc000003e }, { code: 0x06, jt: 0, jf: 0, k: 0x7fff0000 }]);
  assert.deepEqual([...bytes], [0x15, 0x00, 1, 2, 0x3e, 0x00, 0x00, 0xc0, 0x06, 0, 0, 0, 0x00, 0x00, 0xff, 0x7f]);
  assert.equal(serializeFilter(compileSeccomp(COMMON_SECCOMP).filter).length % 8, 0);
});

test("syscall numbers match x86_64's unistd_64.h", () => {
  const expected: Record<string, number> = {
    read: 0, write: 1, open: 2, close: 3, ptrace: 101, getpid: 39, mount: 165, umount2: 166,
    reboot: 169, init_module: 175, delete_module: 176, kexec_load: 246, add_key: 248,
    request_key: 249, keyctl: 250, open_by_handle_at: 304, finit_module: 313, kexec_file_load: 320,
    bpf: 321, userfaultfd: 323, perf_event_open: 298, unshare: 272, setns: 308, pivot_root: 155,
    swapon: 167, swapoff: 168, acct: 163, clone3: 435, open_tree: 428, move_mount: 429,
    fsopen: 430, pidfd_open: 434, mount_setattr: 442, io_uring_setup: 425, mseal: 462,
  };
  for (const [name, nr] of Object.entries(expected)) assert.equal(X86_64_SYSCALLS[name], nr, name);
});

test("allowlist with a default action, sections for other architectures skipped", () => {
  const { filter, warnings } = compileSeccomp(fixture("seccomp-v2.conf"));
  assert.equal(warnings.length, 1);
  assert.match(warnings[0] ?? "", /\[x86\] skipped/);
  const run = (nr: number, arch = X86_64) => runFilter(filter, { nr, arch });
  assert.equal(run(2), SECCOMP_RET.ALLOW); // open
  assert.equal(run(165), SECCOMP_RET.ALLOW); // mount
  assert.equal(run(39), SECCOMP_RET.TRAP); // getpid: not listed, "allowlist trap"
  assert.equal(run(2, AUDIT_ARCH_I386), SECCOMP_RET.TRAP);
});

test("denylist rule without an action kills; errno 0 is allowed", () => {
  const { filter } = compileSeccomp(fixture("seccomp-v2-denylist.conf"));
  assert.equal(runFilter(filter, { nr: 133, arch: X86_64 }), ERRNO(0)); // mknod errno 0
  const kill = compileSeccomp("2\ndenylist\nmknod\n").filter;
  assert.equal(runFilter(kill, { nr: 133, arch: X86_64 }), SECCOMP_RET.KILL_PROCESS);
});

test("version 1: allowed numbers, everything else killed", () => {
  const { filter } = compileSeccomp(fixture("seccomp-v1.conf"));
  assert.equal(runFilter(filter, { nr: 0, arch: X86_64 }), SECCOMP_RET.ALLOW);
  assert.equal(runFilter(filter, { nr: 300, arch: X86_64 }), SECCOMP_RET.ALLOW);
  assert.equal(runFilter(filter, { nr: 301, arch: X86_64 }), SECCOMP_RET.KILL_PROCESS);
});

test("64-bit argument comparisons", () => {
  const policy = `2
allowlist errno 38
personality [0,8,SCMP_CMP_EQ]
ioctl [1,0x5401,SCMP_CMP_NE]
dup [0,10,SCMP_CMP_LT]
dup2 [0,10,SCMP_CMP_LE]
dup3 [0,0x100000000,SCMP_CMP_GT]
socket [0,16,SCMP_CMP_GE] [1,3,SCMP_CMP_EQ]
clone [0,0x10000000,SCMP_CMP_MASKED_EQ,0x10000000] kill
`;
  const { filter } = compileSeccomp(policy);
  const nr = (name: string) => X86_64_SYSCALLS[name] ?? -1;
  const run = (name: string, ...args: bigint[]) => runFilter(filter, { nr: nr(name), arch: X86_64, args });
  const ALLOW = SECCOMP_RET.ALLOW;
  const DENY = ERRNO(38);
  const cases: Array<[string, bigint[], number]> = [
    ["personality", [8n], ALLOW],
    ["personality", [(1n << 32n) | 8n], DENY],
    ["personality", [9n], DENY],
    ["ioctl", [3n, 0x5402n], ALLOW],
    ["ioctl", [3n, 0x5401n], DENY],
    ["ioctl", [3n, (1n << 32n) | 0x5401n], ALLOW],
    ["dup", [9n], ALLOW],
    ["dup", [10n], DENY],
    ["dup", [1n << 32n], DENY],
    ["dup2", [10n], ALLOW],
    ["dup2", [11n], DENY],
    ["dup3", [0x100000000n], DENY],
    ["dup3", [0x100000001n], ALLOW],
    ["dup3", [0xffffffffn], DENY],
    ["dup3", [0x200000000n], ALLOW],
    ["socket", [16n, 3n], ALLOW],
    ["socket", [17n, 3n], ALLOW],
    ["socket", [15n, 3n], DENY],
    ["socket", [16n, 2n], DENY],
    ["clone", [0x10000011n], SECCOMP_RET.KILL_PROCESS],
    ["clone", [0x00000011n], DENY],
    ["getpid", [], DENY],
  ];
  for (const [name, args, expected] of cases) {
    assert.equal(run(name, ...args), expected, `${name}(${args.join(", ")})`);
  }
});

test("a syscall this architecture lacks is skipped with a warning, as LXC does", () => {
  const { warnings, filter } = compileSeccomp("2\ndenylist\nkexec_load errno 1\nnot_a_syscall errno 1\ntoString\n");
  assert.match(warnings.join("\n"), /line 4: "not_a_syscall" is not an x86_64 system call; the rule is skipped/);
  assert.match(warnings.join("\n"), /line 5: "toString" is not an x86_64 system call/);
  assert.ok(filter.length > 0);
});

test("filter values are read as LXC reads them: hex, leading-zero octal, decimal", () => {
  const policy = parseSeccompPolicy("2\ndenylist\nchmod errno 1 [1,0755,SCMP_CMP_EQ]\nfchmod errno 1 [1,0x1ed,SCMP_CMP_EQ]\n");
  assert.equal(policy.rules[0]!.args[0]!.value, 493n);
  assert.equal(policy.rules[1]!.args[0]!.value, 493n);
});

test("a call through another ABI is killed unless the default action refuses it anyway", () => {
  for (const mode of ["denylist", "denylist log"]) {
    const { filter } = compileSeccomp(`2\n${mode}\nmount errno 1\n`);
    assert.equal(runFilter(filter, { arch: 0x40000003, nr: 21 }) >>> 0, SECCOMP_RET.KILL_PROCESS >>> 0, mode);
  }
});

test("policy errors name the line", () => {
  const cases: Array<[string, number, RegExp]> = [
    ["3\ndenylist\n", 1, /version/],
    ["2\ngreylist\n", 2, /denylist/],
    ["2\ndenylist\nmount notify\n", 3, /notify/],
    ["2\ndenylist\nmount errno\n", 3, /errno/],
    ["2\ndenylist\nmount errno 5000\n", 3, /errno/],
    ["2\ndenylist\nmount launch\n", 3, /unknown action/],
    ["2\ndenylist\n[vax]\nmount\n", 3, /unknown section/],
    ["2\ndenylist\nmount [7,1,SCMP_CMP_EQ]\n", 3, /argument filter/],
    ["2\ndenylist\nmount [1,1,SCMP_CMP_WHAT]\n", 3, /argument filter/],
    ["2\ndenylist\nmount [1,1,SCMP_CMP_MASKED_EQ]\n", 3, /mask/],
  ];
  for (const [text, line, message] of cases) {
    assert.throws(() => compileSeccomp(text), (err: unknown) => {
      assert.ok(err instanceof SeccompError, String(err));
      assert.equal(err.line, line, text);
      assert.match(err.message, message, text);
      assert.match(err.message, new RegExp(`line ${line}`));
      return true;
    });
  }
});

test("rules with argument filters take precedence over plain rules", () => {
  const policy = parseSeccompPolicy("2\nallowlist\numount2\nreject_force_umount\n");
  assert.equal(policy.rules.length, 2);
  const { filter } = compileSeccomp("2\nallowlist\numount2\nreject_force_umount\n");
  assert.equal(runFilter(filter, { nr: 166, arch: X86_64, args: [0n, 1n] }), ERRNO(13));
  assert.equal(runFilter(filter, { nr: 166, arch: X86_64, args: [0n, 0n] }), SECCOMP_RET.ALLOW);
});

test("long allowlists stay within jump range", () => {
  const names = Object.keys(X86_64_SYSCALLS);
  const { filter } = compileSeccomp(`2\nallowlist\n${names.join("\n")}\n`);
  assert.ok(filter.length > 2 * names.length);
  for (const name of ["read", "mseal", "clone3"]) {
    assert.equal(runFilter(filter, { nr: X86_64_SYSCALLS[name] ?? -1, arch: X86_64 }), SECCOMP_RET.ALLOW);
  }
  assert.equal(runFilter(filter, { nr: 1000, arch: X86_64 }), SECCOMP_RET.KILL_PROCESS);
});
