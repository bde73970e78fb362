// Container states, numbered exactly as LXC numbers them (src/lxc/state.h):
// the numbers travel on the wire (monitor FIFO, command socket), so never renumber.

export const ContainerState = {
  STOPPED: 0,
  STARTING: 1,
  RUNNING: 2,
  STOPPING: 3,
  ABORTING: 4,
  FREEZING: 5,
  FROZEN: 6,
  THAWED: 7,
} as const;

export type StateName = keyof typeof ContainerState;
export type StateNumber = (typeof ContainerState)[StateName];

export const STATE_NAMES: readonly StateName[] = [
  "STOPPED",
  "STARTING",
  "RUNNING",
  "STOPPING",
  "ABORTING",
  "FREEZING",
  "FROZEN",
  "THAWED",
];

/** The state's name for a wire number, or undefined for a number LXC does not define. */
export function stateName(n: number): StateName | undefined {
  return Number.isInteger(n) ? STATE_NAMES[n] : undefined;
}

export function stateNumber(name: StateName): StateNumber {
  return ContainerState[name];
}

export function isStateName(s: string): s is StateName {
  return Object.hasOwn(ContainerState, s);
}

/**
 * Which state changes the runtime may report. Mirrors start.c's paths:
 * start: STOPPED → STARTING → RUNNING; failure: → ABORTING → STOPPING → STOPPED;
 * exit or stop: RUNNING → STOPPING → STOPPED; freeze: RUNNING → FREEZING → FROZEN;
 * unfreeze: FROZEN → THAWED → RUNNING. A reboot is STOPPING → STOPPED → STARTING.
 */
const TRANSITIONS: Readonly<Record<StateName, readonly StateName[]>> = {
  STOPPED: ["STARTING"],
  STARTING: ["RUNNING", "ABORTING", "STOPPING"],
  RUNNING: ["STOPPING", "ABORTING", "FREEZING"],
  STOPPING: ["STOPPED", "ABORTING"],
  ABORTING: ["STOPPING", "STOPPED"],
  FREEZING: ["FROZEN", "RUNNING", "ABORTING", "STOPPING"],
  FROZEN: ["THAWED", "ABORTING", "STOPPING"],
  THAWED: ["RUNNING", "ABORTING", "STOPPING"],
};

export function canTransition(from: StateName, to: StateName): boolean {
  return TRANSITIONS[from].includes(to);
}

export function nextStates(from: StateName): readonly StateName[] {
  return TRANSITIONS[from];
}

// ---- Guards for operator actions -------------------------------------------------------------

export type Action = "start" | "stop" | "abort" | "reboot" | "freeze" | "unfreeze" | "delete";

export const ACTIONS: readonly Action[] = [
  "start",
  "stop",
  "abort",
  "reboot",
  "freeze",
  "unfreeze",
  "delete",
];

/**
 * The outcome of asking for an action in a state:
 * - `{ ok: true, noop: false }`: do it;
 * - `{ ok: true, noop: true }`: it is already under way (stop while STOPPING, abort while
 *   ABORTING): succeed without doing anything again, so retried requests are idempotent;
 * - `{ ok: false, reason }`: refuse, with a sentence for the operator.
 */
export type ActionVerdict = { ok: true; noop: boolean } | { ok: false; reason: string };

type Rule = { allowed: readonly StateName[]; noop?: readonly StateName[]; refusal: string };

// `refusal` is the default sentence; REFUSALS below gives better ones where they help.
const RULES: Readonly<Record<Action, Rule>> = {
  start: { allowed: ["STOPPED"], refusal: "is not stopped" },
  stop: {
    allowed: ["RUNNING", "STARTING", "FROZEN", "FREEZING", "THAWED"],
    noop: ["STOPPING"],
    refusal: "is not running",
  },
  abort: { allowed: STATE_NAMES.filter((s) => s !== "STOPPED"), noop: ["ABORTING"], refusal: "is not running" },
  reboot: { allowed: ["RUNNING"], refusal: "is not running" },
  freeze: { allowed: ["RUNNING"], refusal: "is not running" },
  unfreeze: { allowed: ["FROZEN"], refusal: "is not frozen" },
  delete: { allowed: ["STOPPED"], refusal: "must be stopped before it is deleted" },
};

const REFUSALS: Partial<Record<Action, Partial<Record<StateName, string>>>> = {
  start: {
    STARTING: "is already starting",
    RUNNING: "is already running",
    STOPPING: "is stopping; start it again once it has stopped",
    ABORTING: "is aborting; start it again once it has stopped",
    FREEZING: "is already running (freezing)",
    FROZEN: "is already running (frozen)",
    THAWED: "is already running",
  },
  reboot: { FROZEN: "is frozen; unfreeze it first", FREEZING: "is freezing; unfreeze it first" },
  freeze: { FROZEN: "is already frozen", FREEZING: "is already freezing" },
  unfreeze: { FREEZING: "is still freezing", THAWED: "is already thawed", RUNNING: "is not frozen" },
};

export function checkAction(action: Action, state: StateName): ActionVerdict {
  const rule = RULES[action];
  if (rule.noop?.includes(state)) return { ok: true, noop: true };
  if (rule.allowed.includes(state)) return { ok: true, noop: false };
  const reason = REFUSALS[action]?.[state] ?? rule.refusal;
  return { ok: false, reason: `container ${reason} (state ${state})` };
}

/** null when the action may proceed (including an idempotent no-op), else the reason. */
export function actionRefusal(action: Action, state: StateName): string | null {
  const verdict = checkAction(action, state);
  return verdict.ok ? null : verdict.reason;
}

/** Actions an operator may ask for in this state (what the dashboard enables). */
export function allowedActions(state: StateName): Action[] {
  return ACTIONS.filter((a) => actionRefusal(a, state) === null);
}

export const guardStart = (s: StateName): string | null => actionRefusal("start", s);
/** Stopping while STOPPING returns null too: use checkAction to tell it is a no-op. */
export const guardStop = (s: StateName): string | null => actionRefusal("stop", s);
export const guardAbort = (s: StateName): string | null => actionRefusal("abort", s);
export const guardReboot = (s: StateName): string | null => actionRefusal("reboot", s);
export const guardFreeze = (s: StateName): string | null => actionRefusal("freeze", s);
export const guardUnfreeze = (s: StateName): string | null => actionRefusal("unfreeze", s);
export const guardDelete = (s: StateName): string | null => actionRefusal("delete", s);
