// The hardening pieces that need no root: bounded config reads, the refusal log's windows and
// summaries, the audit log's retention and field caps, storage errors, the store's check at open
// and its salvage.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { closeSync, fstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, symlinkSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ZodError, z } from "zod";
import { ConfigError, parseLxcConfig } from "@corral/core";
import { describeInputError } from "../../src/api/trpc.ts";
import { describeRequest, RefusalLog, type Refused } from "../../src/api/refusals.ts";
import { boundedConfigIO, readConfigFile } from "../../src/containers/lxcpath.ts";
import { salvageStore } from "../../src/store/salvage.ts";
import { isStorageError, Store, StorageFull, StoreCorrupt } from "../../src/store/store.ts";

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "corral-hardening-"));
}

describe("config reads", () => {
  it("read a regular file, and refuse a FIFO, a character device, a directory and an oversized file, without blocking", () => {
    const dir = tempDir();
    try {
      writeFileSync(join(dir, "ok.conf"), "lxc.uts.name = ok\n");
      assert.equal(readConfigFile(join(dir, "ok.conf")), "lxc.uts.name = ok\n");
      execFileSync("mkfifo", [join(dir, "pipe.conf")]);
      assert.throws(() => readConfigFile(join(dir, "pipe.conf")), /is a FIFO, not a regular file/);
      assert.throws(() => readConfigFile("/dev/zero"), /is a character device/);
      assert.throws(() => readConfigFile(dir), /is a directory/);
      writeFileSync(join(dir, "edge.conf"), "y".repeat(1000));
      assert.equal(readConfigFile(join(dir, "edge.conf"), 1000).length, 1000);
      writeFileSync(join(dir, "long.conf"), "z".repeat(200_000));
      assert.equal(readConfigFile(join(dir, "long.conf")).length, 200_000, "a file longer than one read was cut short");
      writeFileSync(join(dir, "big.conf"), "x".repeat(2000));
      assert.throws(() => readConfigFile(join(dir, "big.conf"), 1000), /2000 bytes, more than the 1000/);
      symlinkSync("/dev/zero", join(dir, "zero.conf"));
      assert.throws(() => readConfigFile(join(dir, "zero.conf")), /character device/);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it("cap what one include tree reads: files, bytes, directory entries; the parser reports it at the include's line", () => {
    const dir = tempDir();
    try {
      mkdirSync(join(dir, "many"));
      for (let i = 0; i < 5; i++) writeFileSync(join(dir, "many", `${i}.conf`), "# nothing\n");
      const text = `lxc.uts.name = x\nlxc.include = ${join(dir, "many")}\n`;
      const limits = { fileBytes: 1024, files: 3, totalBytes: 1 << 20, dirEntries: 100 };
      assert.throws(() => parseLxcConfig(text, { file: join(dir, "config"), io: boundedConfigIO(limits) }), (e: unknown) =>
        e instanceof ConfigError && e.line === 2 && e.key === "lxc.include" && /more than 3 files/.test(e.reason));
      assert.throws(() => parseLxcConfig(text, { file: join(dir, "config"), io: boundedConfigIO({ ...limits, files: 10, totalBytes: 25 }) }), /more than 25 bytes/);
      assert.throws(() => parseLxcConfig(text, { file: join(dir, "config"), io: boundedConfigIO({ ...limits, files: 10, dirEntries: 2 }) }), /5 entries/);
      // each parse counts on its own
      const io = () => boundedConfigIO({ ...limits, files: 5 });
      parseLxcConfig(text, { file: join(dir, "config"), io: io() });
      parseLxcConfig(text, { file: join(dir, "config"), io: io() });
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});

describe("the refusal log", () => {
  const refused = (i: number, ip = "10.0.0.1", status = 401): Refused =>
    ({ ip, address: `${ip}:${1000 + i}`, actor: "anonymous", status, action: describeRequest("GET", `/trpc/${"A".repeat(10_000)}${i}`), why: "missing or wrong token" });

  it("writes the first few refusals of a window, then one summary with their count and reasons", () => {
    const rows: Array<{ action: string; detail: string | null }> = [];
    const log = new RefusalLog((e) => rows.push(e), { perWindow: 5, windowMs: 60_000 });
    try {
      for (let i = 0; i < 300; i++) log.record(refused(i), 1000 + i);
      assert.equal(rows.length, 5);
      assert.ok(rows.every((r) => r.action.length < 200), "a long path was kept whole");
      log.flush(61_000);
      assert.equal(rows.length, 6);
      assert.match(rows[5]!.detail!, /^295 more refused requests from 10\.0\.0\.1 in 60 s.*401 missing or wrong token \(295\)/);
      // another address, or another status, has a window of its own
      log.record(refused(0, "10.0.0.2"), 62_000);
      log.record(refused(0, "10.0.0.1", 415), 62_000);
      assert.equal(rows.length, 8);
    } finally {
      log.close();
    }
  });

  it("answers even when the store cannot be written", () => {
    const log = new RefusalLog(() => {
      throw new StorageFull("writing the audit log", Object.assign(new Error("database or disk is full"), { code: "SQLITE_FULL" }));
    });
    try {
      assert.doesNotThrow(() => log.record(refused(0), 0));
    } finally {
      log.close();
    }
  });

  it("tracks a bounded number of addresses", () => {
    const rows: unknown[] = [];
    const log = new RefusalLog((e) => rows.push(e), { perWindow: 1, windowMs: 60_000, maxAddresses: 10 });
    try {
      for (let i = 0; i < 1000; i++) log.record(refused(0, `10.1.${i >> 8}.${i & 255}`), 0);
      assert.ok(rows.length <= 11, `${rows.length} rows for 1000 addresses`);
    } finally {
      log.close();
    }
  });
});

describe("the store", () => {
  it("caps the fields of an audit row", () => {
    const dir = tempDir();
    const store = new Store(join(dir, "corral.db"));
    try {
      store.audit({ actor: "a".repeat(1000), address: "b".repeat(1000), action: "c".repeat(20_000), target: "d".repeat(1000), result: "refused", detail: "e".repeat(100_000) });
      const [row] = store.auditLog(1);
      assert.ok(row!.action.length < 250 && row!.detail!.length < 2100 && row!.actor.length < 150 && row!.target!.length < 150);
    } finally {
      store.close();
      rmSync(dir, { recursive: true });
    }
  });

  it("keeps the audit log within its age and size", () => {
    const dir = tempDir();
    const store = new Store(join(dir, "corral.db"), { retention: { maxAgeMs: 1000, maxBytes: 100_000 } });
    try {
      const now = Date.now();
      for (let i = 0; i < 10; i++) store.audit({ actor: "api", address: "x", action: "old", target: null, result: "ok", detail: null, at: now - 5000 });
      for (let i = 0; i < 400; i++) store.audit({ actor: "api", address: "x", action: "new", target: null, result: "ok", detail: "y".repeat(1000), at: now });
      const removed = store.pruneAudit(now);
      const rows = store.auditLog(5000);
      assert.ok(removed > 10);
      assert.ok(rows.every((r) => r.action === "new"), "rows past their age were kept");
      assert.ok(rows.length * 1050 <= 100_000 && rows.length > 50, `${rows.length} rows kept`);
      assert.equal(rows[0]!.id, 410, "the newest rows were not the ones kept");
    } finally {
      store.close();
      rmSync(dir, { recursive: true });
    }
  });

  it("refuses a corrupt file at open, and salvage keeps what reads in a new store", () => {
    const dir = tempDir();
    const path = join(dir, "corral.db");
    try {
      const store = new Store(path);
      const oldId = store.storeId;
      for (let i = 0; i < 2000; i++) store.appendEvent("c", "RUNNING", { actor: "t" }, { pad: "x".repeat(200) });
      const alert = store.alerts.add({ kind: "oom-killed", severity: "critical", container: "c", at: 1, message: "c was OOM-killed", detail: {} });
      store.alerts.acknowledge(alert.id, "alice", 2);
      store.close();
      const fd = openSync(path, "r+");
      writeSync(fd, Buffer.alloc(8192, 0x5a), 0, 8192, Math.floor((fstatSync(fd).size * 0.6) / 4096) * 4096);
      closeSync(fd);
      assert.throws(() => new Store(path), (e: unknown) => e instanceof StoreCorrupt && /CORRAL_SALVAGE_STORE=1/.test(e.message));
      const report = salvageStore(path);
      assert.ok(report.events > 1000 && report.events < 2000, JSON.stringify(report));
      assert.ok(readdirSync(dir).some((f) => f.startsWith("corral.db.corrupt-")));
      const fresh = new Store(path);
      assert.notEqual(fresh.storeId, oldId);
      assert.equal(fresh.events({ limit: 5000 }).length, report.events);
      // the alert, written after the events, sits in a page past the damage
      assert.equal(report.alerts, 1);
      assert.deepEqual(fresh.alerts.list().map((a) => [a.kind, a.acknowledgedBy]), [["oom-killed", "alice"]]);
      fresh.close();
      writeFileSync(join(dir, "garbage.db"), "this is not a database at all, not even close".repeat(200));
      assert.throws(() => new Store(join(dir, "garbage.db")), StoreCorrupt);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it("tells storage failures from other errors", () => {
    assert.ok(isStorageError(Object.assign(new Error("x"), { code: "SQLITE_FULL" })));
    assert.ok(isStorageError(Object.assign(new Error("x"), { code: "ENOSPC" })));
    assert.ok(isStorageError(Object.assign(new Error("x"), { code: "SQLITE_IOERR_WRITE" })));
    assert.ok(!isStorageError(Object.assign(new Error("x"), { code: "SQLITE_CONSTRAINT" })));
    assert.ok(!isStorageError(new Error("no code")));
    assert.match(new StorageFull("doing it", Object.assign(new Error("x"), { code: "ENOSPC" })).message, /disk is full/);
  });
});

describe("bad input", () => {
  it("is described field by field", () => {
    const schema = z.object({ name: z.string(), timeout: z.number() });
    const r = schema.safeParse({ name: 5, timeout: "x" });
    assert.ok(!r.success && r.error instanceof ZodError);
    assert.match(describeInputError(r.error), /^bad input: name: .*; timeout: /);
  });
});
