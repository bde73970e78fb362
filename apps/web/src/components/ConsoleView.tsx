"use client";
// A container's console: xterm.js fed by the console's topic on the page's one live stream
// (console.onOutput relayed: the ring buffer's history first, then live output); keystrokes go back through console.write. Its bar
// finds text in what the terminal holds (xterm's search addon) and downloads the ring buffer
// (console.history: the last 256 KiB, as lxc.console.logfile would have it).
import { useEffect, useRef, useState } from "react";
import { Terminal } from "@xterm/xterm";
import { FitAddon } from "@xterm/addon-fit";
import { SearchAddon } from "@xterm/addon-search";
import "@xterm/xterm/css/xterm.css";
import { call } from "@/client/api";
import { liveConnection } from "@/client/live";
import { consoleTopic } from "@/lib/live-wire";
import { expected } from "@/lib/errors";

export function ConsoleView({ agent, name, running }: { agent: string; name: string; running: boolean }) {
  const host = useRef<HTMLDivElement>(null);
  const [status, setStatus] = useState<{ live: boolean; message?: string }>({ live: false, message: "connecting…" });
  const [inputError, setInputError] = useState<string | null>(null);
  const search = useRef<SearchAddon | null>(null);
  const [query, setQuery] = useState("");
  const [found, setFound] = useState<boolean | null>(null);

  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const term = new Terminal({
      convertEol: false,
      cursorBlink: true,
      fontFamily: "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace",
      fontSize: 13,
      scrollback: 5000,
      theme: { background: "#0f141b", foreground: "#d7dde8", cursor: "#7dd3fc" },
    });
    const fit = new FitAddon();
    term.loadAddon(fit);
    const finder = new SearchAddon();
    term.loadAddon(finder);
    search.current = finder;
    term.open(el);
    try {
      fit.fit();
    } catch (e) {
      expected(e, [TypeError], "fitting the console"); // not laid out yet
    }
    const ro = new ResizeObserver(() => {
      try {
        fit.fit();
      } catch (e) {
        expected(e, [TypeError], "fitting the console"); // hidden
      }
    });
    ro.observe(el);

    // typing: batch keystrokes a little so a paste is one call, and keep at most one write in
    // flight, so keys reach the console in the order they were typed; the rest waits in `pending`
    let pending = "";
    let timer: ReturnType<typeof setTimeout> | undefined;
    let writing = false;
    let disposed = false;
    const flush = () => {
      timer = undefined;
      if (writing || !pending || disposed) return;
      const data = pending;
      pending = "";
      writing = true;
      call(agent, "console.write", { name, data })
        .then(() => !disposed && setInputError(null), (e: unknown) => !disposed && setInputError((e as Error).message))
        .finally(() => {
          writing = false;
          flush();
        });
    };
    // Tab belongs to the container's shell (completion); Shift+Tab leaves the console, so the
    // keyboard is never trapped in it
    term.attachCustomKeyEventHandler((e) => !(e.key === "Tab" && e.shiftKey));
    const onData = term.onData((d) => {
      pending += d;
      if (!writing) timer ??= setTimeout(flush, 15);
    });

    // the console's topic on the page's one live stream; a stream opened again resumes from the
    // last console cursor this terminal wrote (the agent sends what it missed, or a reset)
    let cursor: string | null = null;
    const stop = liveConnection().subscribe(consoleTopic(agent, name), {
      cursor: () => cursor,
      onMessage: (m) => {
        if (m.type === "status") setStatus({ live: m.live, message: m.message });
        if (m.type !== "console") return;
        cursor = m.id;
        if (m.reset) {
          term.reset();
          setStatus({ live: true });
        }
        term.write(m.text);
      },
      onDisconnected: () => setStatus({ live: false, message: "reconnecting…" }),
    });

    return () => {
      disposed = true;
      stop();
      onData.dispose();
      clearTimeout(timer);
      ro.disconnect();
      search.current = null;
      term.dispose();
    };
  }, [agent, name]);

  const find = (backwards: boolean) => {
    const finder = search.current;
    if (!finder || !query) {
      setFound(null);
      return;
    }
    setFound(backwards ? finder.findPrevious(query) : finder.findNext(query));
  };
  const download = async () => {
    const text = await call(agent, "console.history", { name });
    const link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([text], { type: "text/plain" }));
    link.download = `${name}-console.log`;
    link.click();
    URL.revokeObjectURL(link.href);
  };

  return (
    <div className="console">
      <div className="console-bar">
        <span className={`dot ${status.live ? "live" : "pending"}`} />
        <span data-testid="console-status">{status.live ? "attached" : status.message ?? "connecting…"}</span>
        {!running && <span className="muted"> · the container is stopped: this is the output of its last run</span>}
        {inputError && <span className="action-error" data-testid="console-error"> {inputError}</span>}
      </div>
      <div className="console-term" ref={host} data-testid="console" role="group" aria-label={`console of ${name} (Shift+Tab leaves it)`} />
      {/* after the terminal: Tab from the console's tab reaches the terminal first */}
      <div className="console-bar">
        <span className="console-tools">
          <input
            type="search" aria-label="find in the console" placeholder="Find" value={query} data-testid="console-find"
            onChange={(e) => { setQuery(e.target.value); setFound(null); }}
            onKeyDown={(e) => { if (e.key === "Enter") find(e.shiftKey); }}
          />
          <span role="status" data-testid="console-found">{found === false ? "no match" : found ? "found" : ""}</span>
          <button type="button" className="link" onClick={() => void download()} data-testid="console-download">Download</button>
        </span>
      </div>
    </div>
  );
}
