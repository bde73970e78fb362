// Sign-in guessing, bounded: failures are counted per address and over all addresses, and past a
// limit sign-in is locked (for that address, or for everyone) until the lockout ends; a password
// is not even checked during a lockout, so the right one gets in only after it. Pure: the clock
// is passed in; the route keeps one limiter per server process.

export interface LoginLimits {
  /** failed sign-ins from one address within windowMs that lock it */
  maxFailures: number;
  /** failed sign-ins from all addresses within windowMs that lock sign-in for everyone */
  maxFailuresAll: number;
  windowMs: number;
  lockoutMs: number;
  /** addresses remembered at once; past it the oldest are forgotten (the overall limit still holds) */
  maxAddresses: number;
}

export const DEFAULT_LOGIN_LIMITS: LoginLimits = {
  maxFailures: 5,
  maxFailuresAll: 50,
  windowMs: 15 * 60_000,
  lockoutMs: 5 * 60_000,
  maxAddresses: 10_000,
};

export type LoginGate = { ok: true } | { ok: false; scope: "address" | "all"; until: number };

/** What a lockout that just began looks like, for the log. */
export interface Lockout {
  scope: "address" | "all";
  address: string;
  failures: number;
  until: number;
}

interface Record {
  failures: number[];
  lockedUntil: number;
}

export class LoginLimiter {
  private readonly byAddress = new Map<string, Record>();
  private all: Record = { failures: [], lockedUntil: 0 };

  constructor(private readonly limits: LoginLimits = DEFAULT_LOGIN_LIMITS) {}

  /** Before the password is looked at: may this address try now? */
  check(address: string, now: number): LoginGate {
    if (this.all.lockedUntil > now) return { ok: false, scope: "all", until: this.all.lockedUntil };
    const r = this.byAddress.get(address);
    if (r && r.lockedUntil > now) return { ok: false, scope: "address", until: r.lockedUntil };
    return { ok: true };
  }

  /** A wrong password: counted; returns the lockout it starts, if it starts one. */
  failed(address: string, now: number): Lockout | undefined {
    const r = this.record(address);
    prune(r, now - this.limits.windowMs);
    prune(this.all, now - this.limits.windowMs);
    r.failures.push(now);
    this.all.failures.push(now);
    if (this.all.failures.length >= this.limits.maxFailuresAll && this.all.lockedUntil <= now) {
      this.all = { failures: [], lockedUntil: now + this.limits.lockoutMs };
      return { scope: "all", address, failures: this.limits.maxFailuresAll, until: this.all.lockedUntil };
    }
    if (r.failures.length >= this.limits.maxFailures && r.lockedUntil <= now) {
      const failures = r.failures.length;
      r.failures = [];
      r.lockedUntil = now + this.limits.lockoutMs;
      return { scope: "address", address, failures, until: r.lockedUntil };
    }
    return undefined;
  }

  /** The right password: that address's failures are forgotten. */
  succeeded(address: string): void {
    this.byAddress.delete(address);
  }

  private record(address: string): Record {
    let r = this.byAddress.get(address);
    if (r) {
      // most recently used last, so that the first key is the one to forget
      this.byAddress.delete(address);
    } else {
      r = { failures: [], lockedUntil: 0 };
      if (this.byAddress.size >= this.limits.maxAddresses) {
        const oldest = this.byAddress.keys().next().value;
        if (oldest !== undefined) this.byAddress.delete(oldest);
      }
    }
    this.byAddress.set(address, r);
    return r;
  }
}

function prune(r: Record, before: number): void {
  while (r.failures.length > 0 && r.failures[0]! < before) r.failures.shift();
}
