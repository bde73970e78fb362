// The dashboard's client store (src/client/store.ts) with a fake dashboard server: what the
// stream delivers, what the lists say, and the races between them.
import assert from "node:assert/strict";
import { afterEach, beforeEach, test } from "node:test";
import { allowedActions, type ContainerSummary, type StateEvent, type StreamItem } from "@corral/core";
import { FakeEventSource } from "./fake-event-source.ts";

type Handler = (body: { path: string; input?: unknown }) => unknown;

/** A fake EventSource: the test pushes items into the newest one. */
class StoreEventSource extends FakeEventSource {
  static override last: StoreEventSource | undefined;
  constructor(url: string) {
    super(url);
    StoreEventSource.last = this;
  }
  /** an item of the local agent's events topic */
  item(item: StreamItem): void {
    const id = `s1:${item.kind === "event" ? item.event.seq : item.lastSeq}`;
    this.emit("m", { topic: "events/local", type: "item", id, item });
  }
}

/** The page's live connection subscribes and opens in a later turn (one stream for a turn's topics). */
const nextTurn = () => new Promise((r) => setTimeout(r, 0));

let handler: Handler;
const realFetch = globalThis.fetch;
beforeEach(() => {
  (globalThis as unknown as { EventSource: unknown }).EventSource = StoreEventSource;
  globalThis.fetch = (async (url: string, init?: { body?: string }) => {
    if (url === "/api/agents") return Response.json({ agents: [{ name: "local", url: "x", up: true }] });
    const body = JSON.parse(init!.body!) as { path: string; input?: unknown };
    return Response.json({ data: await handler(body) });
  }) as typeof fetch;
});
afterEach(() => {
  globalThis.fetch = realFetch;
});

const { DashboardStore } = await import("../src/client/store.ts");

const summary = (name: string, state: ContainerSummary["state"]): ContainerSummary =>
  ({ name, state, actions: allowedActions(state), ips: [], warnings: [] }) as unknown as ContainerSummary;
const event = (seq: number, container: string, state: StateEvent["state"], detail: StateEvent["detail"] = {}): StateEvent =>
  ({ seq, container, state, at: 1000 + seq, cause: { actor: "test" }, detail });

/** A promise the test settles by hand: a request in flight. */
function deferred<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

async function loaded(list: ContainerSummary[], events: StateEvent[] = []) {
  handler = ({ path }) => (path === "containers.list" ? list : { storeId: "s1", events });
  const store = new DashboardStore();
  await store.refreshAgents();
  await Promise.all([store.loadContainers("local"), store.loadEvents("local")]);
  return store;
}

test("a streamed event sets the row's state, indexes the lane, and a replayed one is ignored", async () => {
  const store = await loaded([summary("web", "STOPPED")], [event(1, "web", "STOPPED")]);
  handler = () => [summary("web", "RUNNING")];
  (store as unknown as { openStream(n: string): void }).openStream("local");
  await nextTurn();
  const es = StoreEventSource.last!;
  assert.equal(new URL(es.url, "http://x").searchParams.get("s"), "events/local@s1:1", "the stream resumes after what events.list gave");
  es.item({ kind: "event", event: event(2, "web", "RUNNING", { pid: 42 }) });
  es.item({ kind: "event", event: event(2, "web", "RUNNING", { pid: 42 }) });
  const view = store.agent("local")!;
  assert.equal(view.containers[0]!.state, "RUNNING");
  assert.equal(view.containers[0]!.pid, 42);
  assert.deepEqual(view.byContainer.get("web")!.map((e) => e.seq), [1, 2]);
  assert.equal(view.lastSeq, 2);
  store.stop();
});

test("a list answer that was in flight does not undo a state the stream delivered meanwhile", async () => {
  const store = await loaded([summary("web", "STOPPED")], [event(1, "web", "STOPPED")]);
  (store as unknown as { openStream(n: string): void }).openStream("local");
  await nextTurn();
  const slow = deferred<ContainerSummary[]>();
  handler = () => slow.promise;
  const listing = store.loadContainers("local");
  StoreEventSource.last!.item({ kind: "event", event: event(2, "web", "RUNNING", { pid: 7 }) });
  slow.resolve([summary("web", "STOPPED")]); // taken before the start
  await listing;
  assert.equal(store.agent("local")!.containers[0]!.state, "RUNNING");
  store.stop();
});

test("an older list answer that arrives after a newer one is dropped", async () => {
  const store = await loaded([summary("a", "STOPPED"), summary("b", "STOPPED")]);
  const older = deferred<ContainerSummary[]>();
  const newer = deferred<ContainerSummary[]>();
  const answers = [older.promise, newer.promise];
  handler = () => answers.shift();
  const first = store.loadContainers("local");
  const second = store.loadContainers("local");
  newer.resolve([summary("a", "STOPPED")]); // b was deleted
  await second;
  older.resolve([summary("a", "STOPPED"), summary("b", "STOPPED")]);
  await first;
  assert.deepEqual(store.agent("local")!.containers.map((c) => c.name), ["a"]);
});

test("events the stream brings while the history loads are kept after it, once each", async () => {
  const store = await loaded([summary("web", "STOPPED")], [event(1, "web", "STOPPED")]);
  (store as unknown as { openStream(n: string): void }).openStream("local");
  await nextTurn();
  const page = deferred<{ storeId: string; events: StateEvent[] }>();
  handler = () => page.promise;
  const loading = store.loadEvents("local");
  StoreEventSource.last!.item({ kind: "event", event: event(2, "web", "STARTING") });
  StoreEventSource.last!.item({ kind: "event", event: event(3, "web", "RUNNING") });
  page.resolve({ storeId: "s1", events: [event(1, "web", "STOPPED"), event(2, "web", "STARTING")] });
  await loading;
  assert.deepEqual(store.agent("local")!.events.map((e) => e.seq), [1, 2, 3]);
  store.stop();
});

test("an event replaces its container's summary and leaves the others' as they were (the list's rows are memoised on them)", async () => {
  const store = await loaded([summary("a", "STOPPED"), summary("b", "STOPPED"), summary("c", "STOPPED")], [event(1, "b", "STOPPED")]);
  (store as unknown as { openStream(n: string): void }).openStream("local");
  await nextTurn();
  const view = store.agent("local")!;
  const [a, b, c] = view.containers;
  StoreEventSource.last!.item({ kind: "event", event: event(2, "b", "RUNNING", { pid: 9 }) });
  assert.equal(view.containers[0], a);
  assert.equal(view.containers[2], c);
  assert.notEqual(view.containers[1], b, "a new summary, so that its row renders again");
  assert.equal(b!.state, "STOPPED", "the old summary is not changed in place");
  assert.equal(view.containers[1]!.state, "RUNNING");
  assert.equal(view.containers[1]!.pid, 9);
  // an event of a container the list does not hold yet changes no row
  StoreEventSource.last!.item({ kind: "event", event: event(3, "new", "RUNNING", { pid: 10 }) });
  assert.deepEqual(view.containers.map((x) => x.name), ["a", "b", "c"]);
  store.stop();
});
