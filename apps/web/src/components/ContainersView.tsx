"use client";
// The containers page: the list on the left, the selected container on the right.
import { useEffect, useState } from "react";
import { useDashboard, useNow } from "@/client/hooks";
import { ContainerList, type Selected } from "./ContainerList";
import { ContainerPanel } from "./ContainerPanel";
import { CreateDialog } from "./CreateDialog";

export function ContainersView() {
  const store = useDashboard();
  const now = useNow(1000);
  const [selected, setSelected] = useState<Selected>(null);
  const [creating, setCreating] = useState(false);

  // remember the selection in the URL (?c=agent/name), so a reload keeps it
  useEffect(() => {
    const c = new URLSearchParams(window.location.search).get("c");
    const m = c ? /^([^/]+)\/(.+)$/.exec(c) : null;
    if (m) setSelected({ agent: m[1]!, name: m[2]! });
  }, []);
  const select = (s: Selected) => {
    setSelected(s);
    const url = new URL(window.location.href);
    if (s) url.searchParams.set("c", `${s.agent}/${s.name}`);
    else url.searchParams.delete("c");
    window.history.replaceState(null, "", url);
  };

  // nothing selected: take the first container once the list is there
  useEffect(() => {
    if (selected) return;
    for (const a of store.agents) {
      const first = a.containers[0];
      if (first) { select({ agent: a.name, name: first.name }); return; }
    }
  });

  return (
    <div className="split">
      <ContainerList store={store} now={now} selected={selected} onSelect={select} onCreate={() => setCreating(true)} />
      {selected ? (
        <ContainerPanel key={`${selected.agent}/${selected.name}`} store={store} agent={selected.agent} name={selected.name} onDeleted={() => select(null)} />
      ) : (
        <section className="detail-pane empty-pane">
          <div>
            <h2>No container selected</h2>
            <p className="muted">Pick one on the left, or create one with “+ New”.</p>
          </div>
        </section>
      )}
      {creating && (
        <CreateDialog
          store={store}
          onClose={() => setCreating(false)}
          onCreated={(agent, name) => {
            setCreating(false);
            select({ agent, name });
          }}
        />
      )}
    </div>
  );
}
