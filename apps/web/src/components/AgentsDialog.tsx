"use client";
// The Agents dialog: the hosts this dashboard shows, each with its reachability, version and
// pinned certificate; add one (URL and token: an https agent's certificate fingerprint is shown to
// check against `corral agent --fingerprint` on that host, and pinned once accepted; the agent must
// answer before it is saved), rename, remove. The registry is the server's (tokens never come
// here); the page reloads after a change, so that every view starts from the new list.
import { useCallback, useEffect, useState } from "react";
import { useModalDialog } from "@/client/hooks";
import type { AgentStatus } from "@/lib/types";
import { expected } from "@/lib/errors";

type Listing = { agents: AgentStatus[]; editable: boolean; error?: string; clientCertificate?: string };

async function send(method: string, path: string, body?: object): Promise<Record<string, unknown>> {
  let res: Response;
  try {
    res = await fetch(path, { method, headers: body ? { "content-type": "application/json" } : {}, body: body ? JSON.stringify(body) : undefined });
  } catch (e) {
    expected(e, [TypeError], "changing the agents");
    throw new Error("The dashboard's server cannot be reached.");
  }
  const answer = (await res.json().catch(() => ({}))) as Record<string, unknown> & { error?: { message?: string } };
  if (!res.ok) throw new Error(answer.error?.message ?? `The dashboard's server answered ${res.status}.`);
  return answer;
}

function statusWords(a: AgentStatus): string {
  if (a.up) return `reachable · corral ${a.version ?? "?"} on ${a.hostname ?? "?"}`;
  return a.message ?? "unreachable";
}

export function AgentsDialog({ onClose }: { onClose: () => void }) {
  const ref = useModalDialog(onClose);
  const [listing, setListing] = useState<Listing | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [renaming, setRenaming] = useState<{ from: string; to: string } | null>(null);
  const [removing, setRemoving] = useState<string | null>(null);
  const [form, setForm] = useState({ name: "", url: "", token: "" });
  const [confirm, setConfirm] = useState<{ fingerprint: string; url: string } | null>(null);

  const load = useCallback(async () => {
    try {
      setListing((await send("GET", "/api/agents")) as unknown as Listing);
    } catch (e) {
      setError((e as Error).message);
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  /** Run a change; on success the page starts again from the new list. */
  const change = async (act: () => Promise<boolean>) => {
    setBusy(true);
    setError(null);
    try {
      if (await act()) window.location.reload();
    } catch (e) {
      setError((e as Error).message);
      setConfirm(null); // a refused add starts again from Connect
    } finally {
      setBusy(false);
    }
  };

  const add = (fingerprint?: string): Promise<void> => change(async () => {
    const answer = await send("POST", "/api/registry", { ...form, ...(fingerprint ? { fingerprint } : {}) });
    if (answer.confirm) {
      setConfirm(answer.confirm as { fingerprint: string; url: string });
      return false;
    }
    return true;
  });

  const editable = listing?.editable ?? false;
  const plain = form.url.trim().startsWith("http:");
  return (
    <dialog ref={ref} className="confirm agents-dialog" aria-labelledby="agents-title" data-testid="agents-dialog">
      <div className="modal-head">
        <h2 id="agents-title">Agents</h2>
        <button className="btn ghost" onClick={onClose} data-testid="agents-close">Close</button>
      </div>
      {listing?.error && <div className="notice error" role="alert">The agent registry cannot be read: {listing.error}</div>}
      {listing && !editable && <p className="muted">The agents are set by CORRAL_WEB_AGENTS on the dashboard's server: change them there.</p>}
      <table className="agents-table" data-testid="agents-table">
        <thead>
          <tr><th scope="col">Name</th><th scope="col">URL</th><th scope="col">Certificate (SHA-256)</th><th scope="col">Status</th>{editable && <th scope="col"><span className="sr-only">Actions</span></th>}</tr>
        </thead>
        <tbody>
          {(listing?.agents ?? []).map((a) => (
            <tr key={a.name} data-testid={`agents-row-${a.name}`}>
              <td>
                {renaming?.from === a.name ? (
                  <input className="input" aria-label={`new name for ${a.name}`} value={renaming.to} onChange={(e) => setRenaming({ from: a.name, to: e.target.value.trim() })} autoFocus data-testid="agents-rename-input" />
                ) : a.name}
              </td>
              <td className="mono">{a.url}</td>
              <td className="mono" title={a.fingerprint}>{a.fingerprint ? `${a.fingerprint.slice(0, 16)}…` : "none (plain HTTP, loopback)"}</td>
              <td data-testid={`agents-status-${a.name}`}><span className={`dot ${a.up ? "live" : "down"}`} aria-hidden /> {statusWords(a)}</td>
              {editable && (
                <td className="agents-actions">
                  {renaming?.from === a.name ? (
                    <>
                      <button className="btn small primary" disabled={busy} onClick={() => void change(async () => (await send("PATCH", `/api/registry/${encodeURIComponent(a.name)}`, { name: renaming.to }), true))} data-testid="agents-rename-save">Save</button>
                      <button className="btn small" onClick={() => setRenaming(null)}>Cancel</button>
                    </>
                  ) : removing === a.name ? (
                    <>
                      <span>Remove “{a.name}”? Its containers keep running.</span>
                      <button className="btn small danger-solid" disabled={busy} onClick={() => void change(async () => (await send("DELETE", `/api/registry/${encodeURIComponent(a.name)}`), true))} data-testid="agents-remove-confirm">Remove</button>
                      <button className="btn small" autoFocus onClick={() => setRemoving(null)}>Cancel</button>
                    </>
                  ) : (
                    <>
                      <button className="btn small" onClick={() => setRenaming({ from: a.name, to: a.name })} data-testid={`agents-rename-${a.name}`}>Rename</button>
                      <button className="btn small danger" onClick={() => setRemoving(a.name)} data-testid={`agents-remove-${a.name}`}>Remove</button>
                    </>
                  )}
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
      {editable && (
        <form className="agents-add" onSubmit={(e) => { e.preventDefault(); void add(); }} aria-labelledby="agents-add-title">
          <h3 id="agents-add-title">Add an agent</h3>
          <div className="form-grid three">
            <label>Name<input className="input" value={form.name} onChange={(e) => { setForm({ ...form, name: e.target.value.trim() }); setConfirm(null); }} placeholder="web-host-2" data-testid="agents-add-name" /></label>
            <label>URL<input className="input" value={form.url} onChange={(e) => { setForm({ ...form, url: e.target.value.trim() }); setConfirm(null); }} placeholder="https://10.0.0.2:7690" data-testid="agents-add-url" /></label>
            <label>Token<input className="input" type="password" autoComplete="off" value={form.token} onChange={(e) => { setForm({ ...form, token: e.target.value }); setConfirm(null); }} placeholder={listing?.clientCertificate ? "agent.token, or none if it trusts this dashboard" : "its lxcpath's agent.token"} data-testid="agents-add-token" /></label>
          </div>
          {listing?.clientCertificate && (
            <p className="muted" data-testid="agents-client-certificate">
              This dashboard presents its own certificate (SHA-256 <span className="mono">{listing.clientCertificate}</span>): an agent that trusts it (<code>corral agent trust add</code> with the file CORRAL_WEB_CLIENT_CERT names) needs no token.
            </p>
          )}
          {plain && <p className="field-warn">Plain HTTP: the token travels in clear text. Agents answer it on loopback only.</p>}
          {confirm ? (
            <div className="notice" role="status" data-testid="agents-confirm">
              <p>Certificate fingerprint of {confirm.url}:</p>
              <p className="mono fingerprint" data-testid="agents-fingerprint">{confirm.fingerprint}</p>
              <p>Check it against <code>corral agent --fingerprint</code> on that host. Once trusted, the dashboard accepts this certificate and no other from it.</p>
              <div className="modal-foot">
                <button type="button" className="btn" onClick={() => setConfirm(null)}>Cancel</button>
                <button type="button" className="btn primary" disabled={busy} onClick={() => void add(confirm.fingerprint)} data-testid="agents-trust">Trust and add</button>
              </div>
            </div>
          ) : (
            <div className="modal-foot">
              <button type="submit" className="btn primary" disabled={busy || !form.name || !form.url || (!form.token && !listing?.clientCertificate)} data-testid="agents-add-submit">{busy ? "Connecting…" : "Connect"}</button>
            </div>
          )}
        </form>
      )}
      {error && <div className="notice error" role="alert" data-testid="agents-error">{error}</div>}
    </dialog>
  );
}
