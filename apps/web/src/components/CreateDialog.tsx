"use client";
// Create a container from a template, or from pasted LXC config (with a template, the pasted keys
// come after the template's). The config is checked by the agent's parser as you type; its error
// is shown under the editor, at its line. The debian template builds in the agent's background
// (minutes the first time, seconds from its cache): the dialog polls its progress and shows the
// builder's lines until it ends.
import { useEffect, useRef, useState } from "react";
import { NAME_RE } from "@corral/core";
import { call } from "@/client/api";
import type { DashboardStore } from "@/client/store";

type Check = { ok: true; warnings: string[] } | { ok: false; message: string; line?: number; key?: string } | null;
type Template = "host" | "busybox" | "debian";

/** How often the progress of a background create is asked for. */
const PROGRESS_POLL_MS = 700;
/** Progress lines kept on screen. */
const PROGRESS_LINES = 200;

const EXAMPLE = `lxc.uts.name = web1
lxc.rootfs.path = dir:/var/lib/corral/web1/rootfs
lxc.init.cmd = /bin/sh
`;

export function CreateDialog({ store, onClose, onCreated }: { store: DashboardStore; onClose: () => void; onCreated: (agent: string, name: string) => void }) {
  const agents = store.agents;
  const [chosenAgent, setAgent] = useState("");
  // the agent list may still be loading when the dialog opens
  const agent = chosenAgent || (agents.find((a) => a.status.up)?.name ?? agents[0]?.name ?? "");
  const [name, setName] = useState("");
  const [mode, setMode] = useState<"template" | "config">("template");
  const [template, setTemplate] = useState<Template>("host");
  const [release, setRelease] = useState("bookworm");
  const [rootPassword, setRootPassword] = useState("");
  const [unprivileged, setUnprivileged] = useState(true);
  const [progress, setProgress] = useState<string[] | null>(null);
  const [config, setConfig] = useState("");
  const [check, setCheck] = useState<Check>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const gutter = useRef<HTMLDivElement>(null);
  const area = useRef<HTMLTextAreaElement>(null);

  const nameProblem = name && !NAME_RE.test(name) ? "A name is 1 to 64 of A-Z a-z 0-9 _ . - and starts with a letter or digit." : null;

  // check the config as it is typed
  useEffect(() => {
    if (!config.trim() || !agent) {
      setCheck(null);
      return;
    }
    let off = false;
    const t = setTimeout(() => {
      call(agent, "containers.checkConfig", { name: NAME_RE.test(name) ? name : "new", config }).then(
        (r) => !off && setCheck(r as Check),
        (e: unknown) => !off && setCheck({ ok: false, message: (e as Error).message }),
      );
    }, 250);
    return () => {
      off = true;
      clearTimeout(t);
    };
  }, [agent, name, config]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => e.key === "Escape" && onClose();
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [onClose]);

  const lines = Math.max(config.split("\n").length, 8);
  const badLine = check && !check.ok ? check.line : undefined;
  const needsConfig = mode === "config" && !config.trim();
  const debian = mode === "template" && template === "debian";
  const releaseProblem = debian && !/^[a-z][a-z0-9-]{1,31}$/.test(release) ? "A Debian release name, like bookworm." : null;
  const canCreate = !!agent && NAME_RE.test(name) && !needsConfig && !(check && !check.ok) && !releaseProblem && !busy;
  const progressEnd = useRef<HTMLPreElement>(null);

  useEffect(() => {
    progressEnd.current?.scrollTo({ top: progressEnd.current.scrollHeight });
  }, [progress]);

  /** Follow a create building in the agent's background until it ends; throws its error. */
  const follow = async () => {
    const lines: string[] = [];
    for (let after = 0; ; ) {
      const p = await call(agent, "containers.createProgress", { name, after });
      if (!p) throw new Error("The agent no longer knows of this create.");
      lines.push(...p.lines);
      setProgress(lines.slice(-PROGRESS_LINES));
      after = p.next;
      if (p.done) {
        if (p.error) throw new Error(p.error);
        return;
      }
      await new Promise((r) => setTimeout(r, PROGRESS_POLL_MS));
    }
  };

  const create = async () => {
    setBusy(true);
    setError(null);
    setProgress(null);
    try {
      const result = await call(agent, "containers.create", {
        name,
        template: mode === "template" ? template : undefined,
        config: config.trim() ? config : undefined,
        ...(debian ? { release, rootPassword: rootPassword || undefined } : {}),
        ...(mode === "template" && unprivileged ? { unprivileged: true } : {}),
      });
      if (result.building) {
        setProgress([]);
        await follow();
      }
      await store.loadContainers(agent);
      onCreated(agent, name);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div className="modal" role="dialog" aria-modal="true" aria-labelledby="create-title" data-testid="create-dialog">
        <div className="modal-head">
          <h2 id="create-title">New container</h2>
          <button className="link" onClick={onClose} aria-label="close">✕</button>
        </div>
        <div className="form-grid">
          <label>
            Agent
            <select className="input" value={agent} onChange={(e) => setAgent(e.target.value)} data-testid="create-agent">
              {agents.map((a) => (
                <option key={a.name} value={a.name} disabled={!a.status.up}>
                  {a.name}{a.status.up ? "" : " (unreachable)"}
                </option>
              ))}
            </select>
          </label>
          <label>
            Name
            <input className="input" value={name} onChange={(e) => setName(e.target.value.trim())} placeholder="web1" autoFocus data-testid="create-name" />
            {nameProblem && <span className="field-error">{nameProblem}</span>}
          </label>
        </div>
        <div className="segmented" role="radiogroup" aria-label="source">
          <button role="radio" aria-checked={mode === "template"} className={mode === "template" ? "on" : ""} onClick={() => setMode("template")} data-testid="create-mode-template">
            From a template
          </button>
          <button role="radio" aria-checked={mode === "config"} className={mode === "config" ? "on" : ""} onClick={() => setMode("config")} data-testid="create-mode-config">
            From LXC config
          </button>
        </div>
        {mode === "template" && (
          <label className="block">
            Template
            <select className="input" value={template} onChange={(e) => setTemplate(e.target.value as Template)} data-testid="create-template">
              <option value="host">host — the host's /usr, read-only (no download)</option>
              <option value="busybox">busybox — a busybox rootfs</option>
              <option value="debian">debian — Debian with systemd, on corralbr0 (built once, then cached)</option>
            </select>
          </label>
        )}
        {mode === "template" && (
          <label className="check block" title="lxc.idmap = u 0 100000 65536 and g 0 100000 65536; the rootfs is chowned by the map">
            <input type="checkbox" checked={unprivileged} onChange={(e) => setUnprivileged(e.target.checked)} data-testid="create-unprivileged" />
            Unprivileged: root inside is host uid 100000, not the host&apos;s root
          </label>
        )}
        {debian && (
          <div className="form-grid">
            <label>
              Release
              <input className="input" value={release} onChange={(e) => setRelease(e.target.value.trim())} data-testid="create-release" />
              {releaseProblem && <span className="field-error">{releaseProblem}</span>}
            </label>
            <label>
              Root password
              <input
                className="input"
                type="password"
                autoComplete="new-password"
                value={rootPassword}
                onChange={(e) => setRootPassword(e.target.value)}
                placeholder="none: root cannot log in"
                data-testid="create-root-password"
              />
            </label>
          </div>
        )}
        <div className="block">
          <div className="label-row">
            <span>{mode === "template" ? "Extra LXC config (optional, added after the template's keys)" : "LXC config"}</span>
            {mode === "config" && !config && (
              <button className="link" onClick={() => setConfig(EXAMPLE.replaceAll("web1", name || "web1"))}>insert an example</button>
            )}
          </div>
          <div className={`editor ${badLine ? "has-error" : ""}`}>
            <div className="gutter" ref={gutter} aria-hidden>
              {Array.from({ length: lines }, (_, i) => (
                <div key={i} className={badLine === i + 1 ? "bad" : ""} data-testid={badLine === i + 1 ? "config-error-line" : undefined}>
                  {i + 1}
                </div>
              ))}
            </div>
            <textarea
              ref={area}
              className="code-input"
              value={config}
              spellCheck={false}
              rows={Math.min(lines, 16)}
              onChange={(e) => setConfig(e.target.value)}
              onScroll={(e) => gutter.current && (gutter.current.scrollTop = e.currentTarget.scrollTop)}
              placeholder={mode === "config" ? "Paste an LXC config (lxc.container.conf)" : "lxc.init.cmd = /bin/sh"}
              data-testid="create-config"
              aria-label="LXC config"
            />
          </div>
          {check && !check.ok && (
            <div className="field-error" data-testid="config-error" data-line={check.line}>
              {check.line ? <strong>Line {check.line}: </strong> : null}
              {check.message.replace(/^.*?:\d+: /, "")}
            </div>
          )}
          {check?.ok && check.warnings.length > 0 && (
            <div className="field-warn" data-testid="config-warnings">
              {check.warnings.map((w) => (
                <div key={w}>{w}</div>
              ))}
            </div>
          )}
          {check?.ok && check.warnings.length === 0 && <div className="field-ok">The config parses.</div>}
        </div>
        {progress && (
          <div className="block">
            <div className="label-row">
              <span>{busy ? "Building…" : "Build output"}</span>
            </div>
            <pre className="code-input" ref={progressEnd} style={{ maxHeight: "14em", overflow: "auto", margin: 0 }} data-testid="create-progress">
              {progress.join("\n") || "Starting…"}
            </pre>
          </div>
        )}
        {error && <div className="notice error" role="alert" data-testid="create-error">{error}</div>}
        <div className="modal-foot">
          <button className="btn" onClick={onClose}>Cancel</button>
          <button className="btn primary" disabled={!canCreate} onClick={() => void create()} data-testid="create-submit">
            {busy ? (progress ? "Building…" : "Creating…") : "Create"}
          </button>
        </div>
      </div>
    </div>
  );
}
