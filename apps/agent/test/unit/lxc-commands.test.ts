// The command socket's codec and answer table, against LXC 5.0.2's wire format (commands.c,
// commands_utils.c). No root, no sockets.
import { test } from "node:test";
import assert from "node:assert/strict";
import { stateNumber, type StateName } from "@corral/core";
import {
  CGROUP_SUPER_MAGIC, CMD_DATA_MAX, CMD_REQ_SIZE, LxcCommand, MAX_STATE, commandName, commandSocketName, decideCommand, encodeCgroupCtx,
  encodeCgroupFd, encodeRequest,
  encodeResponse, encodeStateMessage, encodeWantedStates, fnv1a64, parseRequest, parseResponse,
  type CommandAction, type CommandRequest, type ContainerView,
} from "../../src/lxc/command-codec.ts";

const view = (state: StateName, initPid?: number): ContainerView => ({
  name: "web",
  lxcpath: "/var/lib/corral",
  state,
  initPid,
  // in the v2 hierarchy and the v1 memory one; one veth
  cgroupPath: (controller) => (controller === undefined || controller === "memory" ? "/corral-web" : undefined),
  configItem: (key) => ({ "lxc.net.0.type": "veth", "lxc.net.0.veth.pair": "vethweb" })[key],
});

function request(cmd: number, data?: Buffer | number): CommandRequest {
  const parsed = parseRequest(encodeRequest(cmd, data));
  assert.equal(parsed.status, "complete");
  return parsed.request;
}

function replyOf(action: CommandAction) {
  assert.equal(action.kind, "reply");
  const rsp = parseResponse(action.response);
  assert.ok(rsp);
  return rsp;
}

test("command numbers are lxc_cmd_t's", () => {
  assert.equal(LxcCommand.STOP, 2);
  assert.equal(LxcCommand.GET_STATE, 3);
  assert.equal(LxcCommand.GET_INIT_PID, 4);
  assert.equal(LxcCommand.ADD_STATE_CLIENT, 10);
  assert.equal(LxcCommand.GET_INIT_PIDFD, 18);
  assert.equal(LxcCommand.GET_SYSTEMD_SCOPE, 26);
  assert.equal(commandName(10), "ADD_STATE_CLIENT");
  assert.equal(commandName(27), undefined);
});

test("the socket name is <lxcpath>/<name>/command, without a trailing NUL", () => {
  assert.equal(commandSocketName("/var/lib/corral", "web").toString("latin1"), "/var/lib/corral/web/command");
});

test("FNV-1a 64 matches the reference values", () => {
  assert.equal(fnv1a64(Buffer.from("")), 0xcbf29ce484222325n);
  assert.equal(fnv1a64(Buffer.from("a")), 0xaf63dc4c8601ec8cn);
  assert.equal(fnv1a64(Buffer.from("foobar")), 0x85944171f73967e8n);
});

test("a name that does not fit in 106 bytes is hashed as lxc_make_abstract_socket_name does", () => {
  const lxcpath = `/var/lib/${"x".repeat(80)}`;
  // 89 + 1 + 8 + 8 = 106 bytes: one too many (snprintf into 106 bytes needs room for its NUL).
  const name = "abcdefgh";
  assert.equal(`${lxcpath}/${name}/command`.length, 106);
  const hash = fnv1a64(Buffer.from(`${lxcpath}/${name}`)).toString(16).padStart(16, "0");
  assert.equal(commandSocketName(lxcpath, name).toString(), `lxc/${hash}/command`);
  // One byte shorter fits and is used as it is.
  assert.equal(commandSocketName(lxcpath, "abcdefg").toString(), `${lxcpath}/abcdefg/command`);
});

test("a request is parsed once its header and its data have all arrived", () => {
  const states = encodeWantedStates(["RUNNING"]);
  const wire = encodeRequest(LxcCommand.ADD_STATE_CLIENT, states);
  assert.equal(wire.length, CMD_REQ_SIZE + 4 * MAX_STATE);
  for (let n = 0; n < wire.length; n++) assert.deepEqual(parseRequest(wire.subarray(0, n)), { status: "incomplete" });
  const parsed = parseRequest(wire);
  assert.equal(parsed.status, "complete");
  assert.equal(parsed.request.cmd, 10);
  assert.equal(parsed.request.datalen, 32);
  assert.deepEqual(parsed.request.data, states);
  assert.equal(parsed.consumed, 48);
});

test("a value carried in the request's pointer field is kept (ENCODE_INTO_PTR_LEN)", () => {
  const req = request(LxcCommand.SERVE_STATE_CLIENTS, 3);
  assert.equal(req.datalen, 0);
  assert.equal(req.inline, 3n);
  assert.equal(request(LxcCommand.GET_TTY_FD, -1).inline, -1n);
});

test("a request longer than LXC_CMD_DATA_MAX is refused, except CONSOLE_LOG", () => {
  const header = Buffer.alloc(CMD_REQ_SIZE);
  header.writeInt32LE(LxcCommand.GET_CGROUP, 0);
  header.writeInt32LE(CMD_DATA_MAX + 1, 4);
  assert.equal(parseRequest(header).status, "invalid");
  header.writeInt32LE(LxcCommand.CONSOLE_LOG, 0);
  assert.equal(parseRequest(header).status, "incomplete");
});

test("a negative datalen reads no data", () => {
  const header = Buffer.alloc(CMD_REQ_SIZE);
  header.writeInt32LE(LxcCommand.GET_STATE, 0);
  header.writeInt32LE(-5, 4);
  const parsed = parseRequest(header);
  assert.equal(parsed.status, "complete");
  assert.equal(parsed.request.data.length, 0);
});

test("responses are 16 bytes with small values in the pointer field, sign-extended", () => {
  const rsp = encodeResponse(0, 2);
  assert.equal(rsp.length, 16);
  assert.deepEqual([...rsp], [0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0]);
  const none = encodeResponse(0, -1);
  assert.equal(none.readBigInt64LE(8), -1n);
  const err = encodeResponse(-38);
  assert.equal(err.readInt32LE(0), -38);
  assert.equal(err.readInt32LE(4), 0);
});

test("a string response carries its NUL and says its length", () => {
  const rsp = encodeResponse(0, "web");
  assert.equal(rsp.readInt32LE(4), 4);
  assert.deepEqual(rsp.subarray(16), Buffer.from("web\0"));
  assert.equal(parseResponse(rsp.subarray(0, 18)), undefined);
  assert.deepEqual(parseResponse(rsp)?.data, Buffer.from("web\0"));
});

test("the state message is a 264-byte lxc_msg of type state", () => {
  const msg = encodeStateMessage("web", "STOPPED");
  assert.equal(msg.length, 264);
  assert.equal(msg.readInt32LE(0), 0);
  assert.equal(msg.subarray(4, 7).toString(), "web");
  assert.equal(msg[7], 0);
  assert.equal(msg.readInt32LE(260), 0);
  assert.equal(encodeStateMessage("web", "RUNNING").readInt32LE(260), 2);
});

test("GET_STATE answers the state number, and THAWED as RUNNING", () => {
  const cases: Array<[StateName, number]> = [["STARTING", 1], ["RUNNING", 2], ["STOPPING", 3], ["FROZEN", 6], ["THAWED", 2], ["STOPPED", 0]];
  for (const [state, n] of cases) {
    const rsp = replyOf(decideCommand(request(LxcCommand.GET_STATE), view(state)));
    assert.equal(rsp.ret, 0);
    assert.equal(rsp.inline, n, state);
    assert.equal(rsp.datalen, 0);
  }
});

test("GET_INIT_PID answers the pid with ret 0, and -1 before there is one", () => {
  const rsp = replyOf(decideCommand(request(LxcCommand.GET_INIT_PID), view("RUNNING", 4242)));
  assert.deepEqual([rsp.ret, rsp.inline], [0, 4242]);
  const none = replyOf(decideCommand(request(LxcCommand.GET_INIT_PID), view("STARTING")));
  assert.deepEqual([none.ret, none.inline], [0, -1]);
});

test("GET_INIT_PIDFD asks for a pidfd of the init, and answers -EBADF when there is none", () => {
  assert.deepEqual(decideCommand(request(LxcCommand.GET_INIT_PIDFD), view("RUNNING", 1)), { kind: "init-pidfd" });
  assert.equal(replyOf(decideCommand(request(LxcCommand.GET_INIT_PIDFD), view("STARTING"))).ret, -9);
});

test("GET_NAME and GET_LXCPATH answer strings", () => {
  assert.deepEqual(replyOf(decideCommand(request(LxcCommand.GET_NAME), view("RUNNING"))).data, Buffer.from("web\0"));
  assert.deepEqual(replyOf(decideCommand(request(LxcCommand.GET_LXCPATH), view("RUNNING"))).data, Buffer.from("/var/lib/corral\0"));
});

test("GET_CGROUP and GET_LIMIT_CGROUP answer the path for a hierarchy the container is in, else -ENOENT", () => {
  const ask = (cmd: number, controller?: string) =>
    replyOf(decideCommand(request(cmd, controller === undefined ? undefined : Buffer.from(`${controller}\0`)), view("RUNNING", 1)));
  for (const cmd of [LxcCommand.GET_CGROUP, LxcCommand.GET_LIMIT_CGROUP]) {
    assert.deepEqual(ask(cmd, "memory").data, Buffer.from("/corral-web\0"));
    assert.deepEqual(ask(cmd).data, Buffer.from("/corral-web\0"));
    assert.equal(ask(cmd, "cpuacct").ret, -2);
  }
});

test("GET_CONFIG_ITEM answers a key's value, and -1 for one that is unset", () => {
  const ask = (key: string) => replyOf(decideCommand(request(LxcCommand.GET_CONFIG_ITEM, Buffer.from(`${key}\0`)), view("RUNNING", 1)));
  assert.deepEqual(ask("lxc.net.0.veth.pair").data, Buffer.from("vethweb\0"));
  assert.equal(ask("lxc.net.1.type").ret, -1);
  assert.equal(replyOf(decideCommand(request(LxcCommand.GET_CONFIG_ITEM), view("RUNNING", 1))).ret, -1);
});

test("GET_CGROUP_CTX asks for the cgroup fds, with at most the client's struct size back", () => {
  assert.deepEqual(decideCommand(request(LxcCommand.GET_CGROUP_CTX, Buffer.alloc(96)), view("RUNNING", 1)), { kind: "cgroup-ctx", size: 96 });
  assert.deepEqual(decideCommand(request(LxcCommand.GET_CGROUP_CTX, Buffer.alloc(200)), view("RUNNING", 1)), { kind: "cgroup-ctx", size: 96 });
  const rsp = encodeCgroupCtx("hybrid", 3, 96);
  assert.equal(rsp.length, 16 + 96);
  assert.deepEqual([rsp.readInt32LE(0), rsp.readInt32LE(4)], [0, 96]);
  assert.deepEqual([rsp.readInt32LE(16), rsp.readUInt32LE(20), rsp.readUInt32LE(24)], [1, 0, 3]);
  assert.equal(encodeCgroupCtx("unified", 1, 64).length, 16 + 64);
  assert.throws(() => encodeCgroupCtx("legacy", 0, 96), RangeError);
});

test("GET_TTY_FD asks for the terminal numbered in the data pointer", () => {
  for (const ttynum of [0, 1, 4, -1]) assert.deepEqual(decideCommand(request(LxcCommand.GET_TTY_FD, ttynum), view("RUNNING", 1)), { kind: "terminal", ttynum });
});

test("SERVE_STATE_CLIENTS carries a state for the agent to check; the cgroup2 fd is asked for", () => {
  assert.deepEqual(decideCommand(request(LxcCommand.SERVE_STATE_CLIENTS, stateNumber("FROZEN")), view("RUNNING", 1)), { kind: "state-notice", state: "FROZEN" });
  assert.deepEqual(decideCommand(request(LxcCommand.SERVE_STATE_CLIENTS, 99), view("RUNNING", 1)), { kind: "state-notice", state: undefined });
  for (const cmd of [LxcCommand.GET_CGROUP2_FD, LxcCommand.GET_LIMIT_CGROUP2_FD]) assert.deepEqual(decideCommand(request(cmd), view("RUNNING", 1)), { kind: "cgroup2-fd" });
});

test("GET_LIMIT_CGROUP_FD asks for a controller's directory; the answer is a struct cgroup_fd", () => {
  const ask = Buffer.alloc(80);
  ask.write("memory", 16);
  assert.deepEqual(decideCommand(request(LxcCommand.GET_LIMIT_CGROUP_FD, ask), view("RUNNING", 1)), { kind: "cgroup-fd", controller: "memory", type: 0, size: 80 });
  assert.equal(replyOf(decideCommand(request(LxcCommand.GET_LIMIT_CGROUP_FD, Buffer.alloc(80)), view("RUNNING", 1))).ret, -22, "no controller named");
  const rsp = encodeCgroupFd("hybrid", CGROUP_SUPER_MAGIC, "memory", 80);
  assert.deepEqual([rsp.readInt32LE(0), rsp.readInt32LE(4)], [0, 80]);
  assert.deepEqual([rsp.readInt32LE(16), rsp.readInt32LE(24)], [1, 0x27e0eb]);
  assert.equal(rsp.subarray(32, 38).toString(), "memory");
});

test("STOP asks for a stop and no answer", () => {
  assert.deepEqual(decideCommand(request(LxcCommand.STOP), view("RUNNING", 7)), { kind: "stop" });
});

test("ADD_STATE_CLIENT answers the current state when it is wanted", () => {
  const rsp = replyOf(decideCommand(request(LxcCommand.ADD_STATE_CLIENT, encodeWantedStates(["RUNNING", "FROZEN"])), view("RUNNING")));
  assert.equal(rsp.inline, 2);
});

test("ADD_STATE_CLIENT answers MAX_STATE and watches when the state is not reached yet", () => {
  const action = decideCommand(request(LxcCommand.ADD_STATE_CLIENT, encodeWantedStates(["STOPPED"])), view("RUNNING"));
  assert.equal(action.kind, "watch");
  const rsp = parseResponse(action.response);
  assert.equal(rsp?.inline, MAX_STATE);
  assert.deepEqual([...action.states], [1, 0, 0, 0, 0, 0, 0, 0]);
});

test("ADD_STATE_CLIENT with the wrong size is -EINVAL", () => {
  const rsp = replyOf(decideCommand(request(LxcCommand.ADD_STATE_CLIENT, Buffer.alloc(16)), view("RUNNING")));
  assert.equal(rsp.ret, -22);
});

test("every other command, known or not, is -ENOSYS", () => {
  for (const cmd of [LxcCommand.TERMINAL_WINCH, LxcCommand.GET_CLONE_FLAGS,
    LxcCommand.FREEZE, LxcCommand.CONSOLE_LOG, 27, 1000, -1]) {
    const rsp = replyOf(decideCommand(request(cmd), view("RUNNING", 1)));
    assert.equal(rsp.ret, -38, `command ${cmd}`);
  }
});
