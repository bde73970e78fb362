// Signal names and numbers on Linux x86_64 (<asm/signal.h>), parsed in kill(1) fashion as
// lxc.signal.* accepts them: "SIGPWR", "PWR", "30", "SIGRTMIN+3", "RTMAX-2".

export const SIGNALS: Readonly<Record<string, number>> = {
  HUP: 1, INT: 2, QUIT: 3, ILL: 4, TRAP: 5, ABRT: 6, IOT: 6, BUS: 7, FPE: 8, KILL: 9,
  USR1: 10, SEGV: 11, USR2: 12, PIPE: 13, ALRM: 14, TERM: 15, STKFLT: 16, CHLD: 17, CLD: 17,
  CONT: 18, STOP: 19, TSTP: 20, TTIN: 21, TTOU: 22, URG: 23, XCPU: 24, XFSZ: 25, VTALRM: 26,
  PROF: 27, WINCH: 28, IO: 29, POLL: 29, PWR: 30, SYS: 31,
};

/** The signals the runtime names in code. */
export const SIGHUP = 1;
export const SIGINT = 2;
export const SIGKILL = 9;

// glibc reserves 32 and 33 for itself, so the SIGRTMIN that LXC (through libc) sees is 34.
export const SIGRTMIN = 34;
export const SIGRTMAX = 64;

/** Signal number for a name or number, or undefined when it is not a signal. */
export function parseSignal(text: string): number | undefined {
  const s = text.trim();
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    return n >= 1 && n <= SIGRTMAX ? n : undefined;
  }
  const name = s.toUpperCase().replace(/^SIG/, "");
  const rt = /^RT(MIN|MAX)(?:([+-])(\d+))?$/.exec(name);
  if (rt) return realtimeSignal(rt[1] === "MIN" ? SIGRTMIN : SIGRTMAX, rt[2], rt[3]);
  return Object.hasOwn(SIGNALS, name) ? SIGNALS[name] : undefined;
}

function realtimeSignal(base: number, sign: string | undefined, offset: string | undefined): number | undefined {
  const n = base + (sign === "-" ? -1 : 1) * Number(offset ?? 0);
  return n >= SIGRTMIN && n <= SIGRTMAX ? n : undefined;
}

/** "SIGTERM" for 15, "SIGRTMIN+3" for 37; a plain number string when unnamed. */
export function signalName(n: number): string {
  for (const [name, num] of Object.entries(SIGNALS)) if (num === n) return `SIG${name}`;
  if (n >= SIGRTMIN && n <= SIGRTMAX) return n === SIGRTMIN ? "SIGRTMIN" : `SIGRTMIN+${n - SIGRTMIN}`;
  return String(n);
}

/** What a process does with each signal, from the masks of /proc/PID/status. */
export interface SignalMasks {
  /** SigCgt: a handler is installed */
  caught: bigint;
  /** SigBlk: blocked, typically to be read from a signalfd (systemd does this) */
  blocked: bigint;
  /** SigIgn: ignored */
  ignored: bigint;
}

/** The signal masks in the text of /proc/PID/status (all empty when a line is missing). */
export function parseSignalMasks(status: string): SignalMasks {
  const mask = (field: string) => {
    const m = new RegExp(`^${field}:\\s*([0-9a-f]+)$`, "m").exec(status);
    return m ? BigInt(`0x${m[1]}`) : 0n;
  };
  return { caught: mask("SigCgt"), blocked: mask("SigBlk"), ignored: mask("SigIgn") };
}

function inMask(mask: bigint, signal: number): boolean {
  return ((mask >> BigInt(signal - 1)) & 1n) === 1n;
}

/**
 * Will an init act on `signal`? The kernel drops a signal to a PID namespace's init that has no
 * handler for it, so one it neither catches nor blocks (to read it from a signalfd, as systemd
 * does) would never arrive; nor would one it ignores.
 */
export function initHandles(masks: SignalMasks, signal: number): boolean {
  if (inMask(masks.ignored, signal)) return false;
  return inMask(masks.caught, signal) || inMask(masks.blocked, signal);
}

/** SIGRTMIN+3: systemd's "halt" (lxc's shutdown sends it to an init that blocks it). */
export const SIGRTMIN_3 = SIGRTMIN + 3;
/** SIGPWR: LXC's default halt signal for other inits. */
export const SIGPWR = 30;

/**
 * The halt signal, as do_lxcapi_shutdown chooses it: lxc.signal.halt when set, else SIGRTMIN+3
 * when the init blocks it (systemd), else SIGPWR.
 */
export function haltSignal(configured: number | undefined, masks: SignalMasks): number {
  if (configured !== undefined) return configured;
  return inMask(masks.blocked, SIGRTMIN_3) ? SIGRTMIN_3 : SIGPWR;
}
