// CommandSockets over a real abstract socket, without root: binding an abstract name needs no
// privilege. Node's own connect pads an abstract name with NULs to the whole sun_path (liblxc does
// not), so here the server's name is padded the same way to let a Node client reach it; the
// exact-length name liblxc uses is checked with the real tools in test/root/lxc-tools.test.ts.
// Needs the native library (pnpm build).
import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { randomBytes } from "node:crypto";
import type { StateName } from "@corral/core";
import { nativeSyscalls } from "../../src/sys/native.ts";
import type { Syscalls } from "../../src/sys/syscalls.ts";
import { CommandSockets, type CommandTarget } from "../../src/lxc/commands.ts";
import { LxcCommand, MAX_STATE, commandSocketName, encodeRequest, encodeWantedStates, parseResponse } from "../../src/lxc/command-codec.ts";

const SUN_PATH_NAME = 107;
// Only a name: abstract sockets live in no directory.
const lxcpath = `/tmp/corral-cmd-unit-${randomBytes(4).toString("hex")}`;

function padded(name: Uint8Array): Buffer {
  const buf = Buffer.alloc(SUN_PATH_NAME);
  Buffer.from(name).copy(buf);
  return buf;
}

class Harness implements CommandTarget {
  current: StateName = "RUNNING";
  pid: number | undefined = 4242;
  stops: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  peerUid = 0;
  errors: string[] = [];
  readonly sockets: CommandSockets;

  constructor() {
    const sys: Syscalls = {
      ...nativeSyscalls,
      listenAbstract: (name) => nativeSyscalls.listenAbstract(padded(name)),
      peerUid: () => this.peerUid,
    };
    this.sockets = new CommandSockets(sys, lxcpath, this, (name, e) => this.errors.push(`${name}: ${e.message}`));
  }
  state(): StateName {
    return this.current;
  }
  initPid(): number | undefined {
    return this.pid;
  }
  cgroupPath(): string | undefined {
    return undefined;
  }
  runningConfigItem(): string | undefined {
    return undefined;
  }
  cgroupDirs(): undefined {
    return undefined;
  }
  openTerminal(): undefined {
    return undefined;
  }
  freezerCgroup2Dir(): undefined {
    return undefined;
  }
  cgroupDirFor(): undefined {
    return undefined;
  }
  noteState(): void {}
  stop(): Promise<void> {
    return new Promise((resolve, reject) => this.stops.push({ resolve, reject }));
  }
}

function connect(name: string): Promise<net.Socket> {
  const path = `\0${commandSocketName(lxcpath, name).toString()}`;
  return new Promise((resolve, reject) => {
    const socket = net.connect({ path }, () => resolve(socket));
    socket.once("error", reject);
  });
}

/** Send one request; resolve with everything received until the server closes. */
async function exchange(name: string, request: Buffer): Promise<Buffer> {
  const socket = await connect(name);
  const chunks: Buffer[] = [];
  socket.on("data", (d: Buffer) => chunks.push(d));
  socket.write(request);
  await new Promise((r) => socket.once("close", r));
  return Buffer.concat(chunks);
}

/** Resolve once `n` bytes have arrived on `socket`. */
function receive(socket: net.Socket, n: number): Promise<Buffer> {
  return new Promise((resolve) => {
    let got = Buffer.alloc(0);
    const onData = (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (got.length >= n) {
        socket.off("data", onData);
        resolve(got);
      }
    };
    socket.on("data", onData);
  });
}

test("GET_STATE and GET_INIT_PID are answered and the connection closed", async () => {
  const h = new Harness();
  h.sockets.open("c1");
  try {
    const state = parseResponse(await exchange("c1", encodeRequest(LxcCommand.GET_STATE)));
    assert.deepEqual([state?.ret, state?.inline], [0, 2]);
    const pid = parseResponse(await exchange("c1", encodeRequest(LxcCommand.GET_INIT_PID)));
    assert.deepEqual([pid?.ret, pid?.inline], [0, 4242]);
  } finally {
    h.sockets.closeAll();
  }
});

test("unknown commands get -ENOSYS and the socket keeps serving", async () => {
  const h = new Harness();
  h.sockets.open("c2");
  try {
    for (const cmd of [99, LxcCommand.GET_CLONE_FLAGS, LxcCommand.CONSOLE_LOG]) {
      assert.equal(parseResponse(await exchange("c2", encodeRequest(cmd, Buffer.from("memory\0"))))?.ret, -38);
    }
    assert.equal(parseResponse(await exchange("c2", encodeRequest(LxcCommand.GET_STATE)))?.inline, 2);
  } finally {
    h.sockets.closeAll();
  }
});

test("a peer that is neither root nor the agent's user gets -EPERM and the close", async () => {
  const h = new Harness();
  h.peerUid = 12345;
  h.sockets.open("c3");
  try {
    const rsp = parseResponse(await exchange("c3", encodeRequest(LxcCommand.STOP)));
    assert.equal(rsp?.ret, -1);
    assert.equal(h.stops.length, 0);
  } finally {
    h.sockets.closeAll();
  }
});

test("ADD_STATE_CLIENT: MAX_STATE now, one lxc_msg when a wanted state comes, then the close", async () => {
  const h = new Harness();
  h.sockets.open("c4");
  try {
    const socket = await connect("c4");
    const closed = new Promise((r) => socket.once("close", r));
    socket.write(encodeRequest(LxcCommand.ADD_STATE_CLIENT, encodeWantedStates(["STOPPED"])));
    assert.equal(parseResponse(await receive(socket, 16))?.inline, MAX_STATE);
    const message = receive(socket, 264);
    h.current = "STOPPING";
    h.sockets.stateChanged("c4", "STOPPING");
    h.current = "STOPPED";
    h.sockets.stateChanged("c4", "STOPPED");
    const msg = await message;
    assert.equal(msg.length, 264);
    assert.equal(msg.readInt32LE(0), 0);
    assert.equal(msg.subarray(4, 6).toString(), "c4");
    assert.equal(msg.readInt32LE(260), 0);
    await closed;
  } finally {
    h.sockets.closeAll();
  }
});

test("ADD_STATE_CLIENT for the current state is answered at once", async () => {
  const h = new Harness();
  h.sockets.open("c5");
  try {
    const rsp = parseResponse(await exchange("c5", encodeRequest(LxcCommand.ADD_STATE_CLIENT, encodeWantedStates(["RUNNING"]))));
    assert.equal(rsp?.inline, 2);
  } finally {
    h.sockets.closeAll();
  }
});

test("STOP: no answer, the close once the stop is done; a refused stop is answered", async () => {
  const h = new Harness();
  h.sockets.open("c6");
  try {
    const stopped = exchange("c6", encodeRequest(LxcCommand.STOP));
    await waitFor(() => h.stops.length === 1);
    h.stops[0]!.resolve();
    assert.equal((await stopped).length, 0);

    const refused = exchange("c6", encodeRequest(LxcCommand.STOP));
    await waitFor(() => h.stops.length === 2);
    h.stops[1]!.reject(new Error("c6 is STOPPED"));
    assert.equal(parseResponse(await refused)?.ret, -22);
  } finally {
    h.sockets.closeAll();
  }
});

test("close(): pending clients see the close, new ones are refused; a half request is dropped", async () => {
  const h = new Harness();
  h.sockets.open("c7");
  const half = await connect("c7");
  half.write(encodeRequest(LxcCommand.GET_STATE).subarray(0, 10));
  const halfClosed = new Promise((r) => half.once("close", r));
  const stop = exchange("c7", encodeRequest(LxcCommand.STOP));
  await waitFor(() => h.stops.length === 1);
  h.sockets.close("c7");
  assert.equal((await stop).length, 0);
  await halfClosed;
  await assert.rejects(connect("c7"), { code: "ECONNREFUSED" });
  // Opening again serves again (a reboot: STOPPED then STARTING).
  h.sockets.open("c7");
  try {
    assert.equal(parseResponse(await exchange("c7", encodeRequest(LxcCommand.GET_STATE)))?.inline, 2);
  } finally {
    h.sockets.closeAll();
  }
  assert.deepEqual(h.errors, []);
});

test("a name already served elsewhere is reported, not thrown", () => {
  const a = new Harness();
  const b = new Harness();
  a.sockets.open("c8");
  try {
    b.sockets.open("c8");
    assert.equal(b.errors.length, 1);
    assert.match(b.errors[0]!, /EADDRINUSE/);
  } finally {
    a.sockets.closeAll();
    b.sockets.closeAll();
  }
});

async function waitFor(done: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 5));
  }
}
