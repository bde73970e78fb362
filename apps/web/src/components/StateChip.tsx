import type { StateName } from "@corral/core";
import { STATE_COLOR, STATE_INK } from "@/lib/states";

/** A state, in its colour and in words. */
export function StateChip({ state, greyed = false, testId = "state" }: { state: StateName; greyed?: boolean; testId?: string }) {
  return (
    <span
      className="chip"
      data-testid={testId}
      data-state={state}
      style={greyed ? undefined : { background: STATE_COLOR[state], color: STATE_INK[state] }}
    >
      {state}
    </span>
  );
}
