// Where the arrow keys, Home and End lead in the WAI-ARIA patterns the dashboard uses: the tabs
// of a container (Left/Right wrap around) and the rows of the container grid (Up/Down stop at the
// ends). Pure.
import { TABS, type Tab } from "./view-url";

/** The tab a key moves to from `tab`, or undefined for any other key. */
export function tabAfterKey(tab: Tab, key: string): Tab | undefined {
  const i = TABS.indexOf(tab);
  switch (key) {
    case "ArrowRight": return TABS[(i + 1) % TABS.length];
    case "ArrowLeft": return TABS[(i - 1 + TABS.length) % TABS.length];
    case "Home": return TABS[0];
    case "End": return TABS[TABS.length - 1];
    default: return undefined;
  }
}

/** The row a key moves to among `count` rows from `index`, or undefined for any other key. */
export function rowAfterKey(index: number, count: number, key: string): number | undefined {
  if (count === 0) return undefined;
  switch (key) {
    case "ArrowDown": return Math.min(count - 1, index + 1);
    case "ArrowUp": return Math.max(0, index - 1);
    case "Home": return 0;
    case "End": return count - 1;
    default: return undefined;
  }
}

