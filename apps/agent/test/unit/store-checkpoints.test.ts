// The store's WAL checkpoints run on a thread of their own (store/checkpointer.ts): the agent's
// writes never copy the WAL into the database nor fsync it themselves.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { statSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Store } from "../../src/store/store.ts";
import { tempDir } from "./temp-dir.ts";

/** 3,000 events: 1.5 MB of rows, 12 MB of WAL, past SQLite's automatic checkpoint (1,000 pages) many times. */
function writeEvents(store: Store): void {
  for (let i = 0; i < 3000; i++) store.appendEvent(`c${i % 50}`, "RUNNING", { actor: "t" }, { pad: "x".repeat(400) });
}

describe("the store's checkpoints", () => {
  it("are not made by the writes once a thread makes them", () => {
    using dir = tempDir("ckpt");
    const path = join(dir.path, "corral.db");
    const store = new Store(path);
    // a thread that will not checkpoint during this test
    store.checkpointInBackground(3600_000);
    const before = statSync(path).size;
    writeEvents(store);
    assert.equal(statSync(path).size, before, "a write copied the WAL into the database");
    assert.ok(statSync(`${path}-wal`).size > 4 * 1024 * 1024);
    store.close();
    // closing checkpoints what was left: nothing is lost
    const again = new Store(path);
    assert.equal(again.events({ limit: 10_000 }).length, 3000);
    again.close();
  });

  it("are made by the thread, while the writes go on", async () => {
    using dir = tempDir("ckpt");
    const path = join(dir.path, "corral.db");
    const store = new Store(path);
    store.checkpointInBackground(20);
    try {
      const before = statSync(path).size;
      writeEvents(store);
      for (let i = 0; i < 250 && statSync(path).size < before + 1024 * 1024; i++) await sleep(20);
      assert.ok(statSync(path).size > before + 1024 * 1024, "the thread did not copy the WAL into the database");
      assert.equal(store.events({ limit: 10_000 }).length, 3000);
    } finally {
      store.close();
    }
  });

  it("are SQLite's own for a store that does not ask for the thread", () => {
    using dir = tempDir("ckpt");
    const path = join(dir.path, "corral.db");
    const store = new Store(path);
    const before = statSync(path).size;
    writeEvents(store);
    assert.ok(statSync(path).size > before + 1024 * 1024, "the automatic checkpoint did not run");
    store.close();
  });
});
