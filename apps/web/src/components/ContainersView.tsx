"use client";
// The containers page: the list on the left, the selected container on the right (on a phone, the
// list, then the panel, with a way back). The view lives in the URL (lib/view-url.ts): the page
// renders from it, and every change of selection, tab, filter or time range is written back, so a
// reload or a shared link opens the same view.
import { useEffect, useRef, useState } from "react";
import type { StateName } from "@corral/core";
import { useDashboard, useNow } from "@/client/hooks";
import { containersQuery, replaceQuery, type ContainersViewState, type Tab, type TimeRange } from "@/lib/view-url";
import { ContainerList, type Selected } from "./ContainerList";
import { ContainerPanel } from "./ContainerPanel";
import { CreateDialog } from "./CreateDialog";

export function ContainersView({ initial }: { initial: ContainersViewState }) {
  const store = useDashboard();
  const now = useNow(1000);
  const [view, setView] = useState<ContainersViewState>(initial);
  // on a narrow screen one pane shows at a time: a link naming a container opens its panel
  const [pane, setPane] = useState<"list" | "detail">(initial.selected ? "detail" : "list");
  const [creating, setCreating] = useState(false);
  const { selected } = view;
  const update = (change: Partial<ContainersViewState>) => setView((v) => ({ ...v, ...change }));
  const paneRef = useRef<HTMLDivElement>(null);

  useEffect(() => replaceQuery(containersQuery(view)), [view]);

  const select = (s: Selected) => update({ selected: s, range: undefined });
  const open = (s: NonNullable<Selected>) => {
    if (selected?.agent !== s.agent || selected.name !== s.name) select(s);
    setPane("detail");
  };
  useEffect(() => {
    if (pane === "detail") paneRef.current?.scrollTo({ top: 0 });
  }, [pane, selected]);

  // nothing selected: take the first container once the list is there
  useEffect(() => {
    if (selected) return;
    for (const a of store.agents) {
      const first = a.containers[0];
      if (first) {
        select({ agent: a.name, name: first.name });
        return;
      }
    }
  });

  return (
    <div className="split" data-pane={pane} ref={paneRef}>
      <h1 className="sr-only">Containers</h1>
      <ContainerList
        store={store}
        now={now}
        selected={selected}
        onSelect={select}
        onOpen={open}
        onCreate={() => setCreating(true)}
        filter={view.filter}
        onFilter={(filter) => update({ filter })}
        stateFilter={view.stateFilter}
        onStateFilter={(stateFilter: StateName | "") => update({ stateFilter })}
      />
      {selected ? (
        <ContainerPanel
          key={`${selected.agent}/${selected.name}`}
          store={store}
          agent={selected.agent}
          name={selected.name}
          tab={view.tab}
          onTab={(tab: Tab) => update({ tab })}
          range={view.range}
          onRangeChange={(range: TimeRange) => update({ range })}
          onDeleted={() => {
            select(null);
            setPane("list");
          }}
          onBack={() => setPane("list")}
        />
      ) : (
        <section className="detail-pane empty-pane" aria-label="container">
          <div>
            <h2>No container selected</h2>
            <p className="muted">Pick one in the list, or create one with “+ New”.</p>
            <button className="link back" onClick={() => setPane("list")}>← All containers</button>
          </div>
        </section>
      )}
      {creating && (
        <CreateDialog
          store={store}
          onClose={() => setCreating(false)}
          onCreated={(agent, name) => {
            setCreating(false);
            open({ agent, name });
          }}
        />
      )}
    </div>
  );
}
