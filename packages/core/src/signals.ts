// Signal names and numbers on Linux x86_64 (<asm/signal.h>), parsed in kill(1) fashion as
// lxc.signal.* accepts them: "SIGPWR", "PWR", "30", "SIGRTMIN+3", "RTMAX-2".

export const SIGNALS: Readonly<Record<string, number>> = {
  HUP: 1, INT: 2, QUIT: 3, ILL: 4, TRAP: 5, ABRT: 6, IOT: 6, BUS: 7, FPE: 8, KILL: 9,
  USR1: 10, SEGV: 11, USR2: 12, PIPE: 13, ALRM: 14, TERM: 15, STKFLT: 16, CHLD: 17, CLD: 17,
  CONT: 18, STOP: 19, TSTP: 20, TTIN: 21, TTOU: 22, URG: 23, XCPU: 24, XFSZ: 25, VTALRM: 26,
  PROF: 27, WINCH: 28, IO: 29, POLL: 29, PWR: 30, SYS: 31,
};

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
