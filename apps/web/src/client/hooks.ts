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

/** Whether the system asks for dark colours (false on the server), following changes. */
export function useDarkMode(): boolean {
  return useSyncExternalStore(
    (onChange) => {
      const mq = window.matchMedia(DARK_QUERY);
      mq.addEventListener("change", onChange);
      return () => mq.removeEventListener("change", onChange);
    },
    () => window.matchMedia(DARK_QUERY).matches,
    () => false,
  );
}
