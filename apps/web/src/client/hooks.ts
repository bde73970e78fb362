"use client";
import { useEffect, useState, useSyncExternalStore } from "react";
import { dashboardStore, type DashboardStore } from "./store";

/** The dashboard store; the component re-renders on every change. */
export function useDashboard(): DashboardStore {
  const store = dashboardStore();
  useSyncExternalStore(store.subscribe, store.getVersion, () => 0);
  return store;
}

/** The time now, ticking. */
export function useNow(everyMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  return now;
}

const DARK_QUERY = "(prefers-color-scheme: dark)";

/** One MediaQueryList for the page, asked for when first needed (never on the server). */
let darkQuery: MediaQueryList | undefined;
const dark = () => (darkQuery ??= window.matchMedia(DARK_QUERY));
// Module-level, so that React keeps one subscription per component: an inline subscribe function
// is a new one each render, which React unsubscribes and subscribes again (a matchMedia and two
// listener changes per render, per chart and timeline, every frame while events arrive).
const subscribeDark = (onChange: () => void) => {
  const mq = dark();
  mq.addEventListener("change", onChange);
  return () => mq.removeEventListener("change", onChange);
};
const isDark = () => dark().matches;

/** Whether the system asks for dark colours (false on the server), following changes. */
export function useDarkMode(): boolean {
  return useSyncExternalStore(subscribeDark, isDark, () => false);
}
