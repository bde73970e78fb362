"use client";
import { useEffect, useRef, useState, useSyncExternalStore, type RefObject } from "react";
import { dashboardStore, type DashboardStore } from "./store";

/** The dashboard store; the component re-renders on every change. */
export function useDashboard(): DashboardStore {
  const store = dashboardStore();
  useSyncExternalStore(store.subscribe, store.getVersion, () => 0);
  return store;
}

/**
 * A modal <dialog> for as long as the component that renders it is mounted: shown with
 * showModal() (the browser traps focus in it and makes the page behind it inert), Escape goes to
 * `onCancel` (the owner unmounts it, so that an answer is given once), and focus goes back to
 * where it was when it closes. Put the ref on the <dialog>.
 */
export function useModalDialog(onCancel: () => void): RefObject<HTMLDialogElement | null> {
  const ref = useRef<HTMLDialogElement>(null);
  const cancel = useRef(onCancel);
  cancel.current = onCancel;
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    const before = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    dialog.showModal();
    const onEscape = (e: Event) => {
      e.preventDefault(); // closed by its owner, not by the browser
      cancel.current();
    };
    dialog.addEventListener("cancel", onEscape);
    return () => {
      dialog.removeEventListener("cancel", onEscape);
      dialog.close();
      if (before?.isConnected) before.focus();
    };
  }, []);
  return ref;
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
