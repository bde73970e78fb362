"use client";
// Asking before an action that cannot be undone (abort, kill now, delete, and the bulk ones): a
// modal <dialog> (the browser traps focus in it and makes the page behind it inert), titled with
// the action and the count, listing the containers by name. Focus starts on Cancel, the choice that
// changes nothing; Escape cancels too; focus returns to where it was.
import { useCallback, useRef, useState, type ReactNode } from "react";
import { useModalDialog } from "@/client/hooks";
import { plural } from "@/lib/view-url";

export interface ConfirmRequest {
  /** the verb, capitalised: "Abort", "Delete", "Kill now" */
  action: string;
  /** the containers it acts on */
  names: string[];
  /** what it does, in a sentence */
  consequence: string;
}

type Pending = ConfirmRequest & { resolve: (ok: boolean) => void };

/** The dialog to render, and `ask`, which shows it and resolves true once confirmed. */
export function useConfirm(): [ReactNode, (r: ConfirmRequest) => Promise<boolean>] {
  const [pending, setPending] = useState<Pending | null>(null);
  const ask = useCallback((r: ConfirmRequest) => new Promise<boolean>((resolve) => setPending({ ...r, resolve })), []);
  const settle = (ok: boolean) => {
    pending?.resolve(ok);
    setPending(null);
  };
  return [pending ? <ConfirmDialog request={pending} onSettle={settle} /> : null, ask];
}

function ConfirmDialog({ request, onSettle }: { request: ConfirmRequest; onSettle: (ok: boolean) => void }) {
  const settle = useRef(onSettle);
  settle.current = onSettle;
  const ref = useModalDialog(() => settle.current(false));
  const { action, names, consequence } = request;

  const title = `${action} ${plural(names.length, "container")}?`;
  return (
    <dialog ref={ref} className="confirm" role="alertdialog" aria-labelledby="confirm-title" aria-describedby="confirm-what" data-testid="confirm-dialog">
      <h2 id="confirm-title" data-testid="confirm-title">{title}</h2>
      <p id="confirm-what">{consequence}</p>
      <ul className="confirm-names" data-testid="confirm-names" aria-label="containers">
        {names.map((n) => (
          <li key={n} className="mono">{n}</li>
        ))}
      </ul>
      <div className="modal-foot">
        <button className="btn" autoFocus onClick={() => settle.current(false)} data-testid="confirm-cancel">Cancel</button>
        <button className="btn danger-solid" onClick={() => settle.current(true)} data-testid="confirm-ok">
          {action} {plural(names.length, "container")}
        </button>
      </div>
    </dialog>
  );
}
