// A recording fake of the syscall boundary for unit tests: every call is stored with its
// arguments, and a failure can be injected for any call by name.
import { SyscallError, type IdMapTexts, type Syscalls } from "./syscalls.ts";

export interface RecordedCall {
  call: keyof Syscalls;
  args: unknown[];
}

export class FakeSyscalls implements Syscalls {
  readonly calls: RecordedCall[] = [];
  private readonly failures = new Map<string, number>();
  private nextFd = 100;
  private nextPid = 1000;
  /** Wait statuses to hand out from reap(), by pid. */
  readonly exits = new Map<number, number>();

  /** Make the next call of `call` fail with `errno`. */
  failNext(call: keyof Syscalls, errno: number): void {
    this.failures.set(call, errno);
  }

  private record(call: keyof Syscalls, args: unknown[]): void {
    this.calls.push({ call, args });
    const errno = this.failures.get(call);
    if (errno !== undefined) {
      this.failures.delete(call);
      throw new SyscallError(call, errno, "injected failure");
    }
  }

  names(): string[] {
    return this.calls.map((c) => c.call);
  }

  spawn(plan: Uint8Array, cloneFlags: number, childFd: number, parentFd: number, cgroupFd: number, idMaps?: IdMapTexts): number {
    this.record("spawn", [plan, cloneFlags, childFd, parentFd, cgroupFd, idMaps]);
    return this.nextPid++;
  }
  usernsFd(maps: IdMapTexts): number {
    this.record("usernsFd", [maps]);
    return this.nextFd++;
  }
  /** extended attributes by "path name" */
  readonly xattrs = new Map<string, Buffer>();
  getXattr(path: string, name: string): Buffer | undefined {
    this.record("getXattr", [path, name]);
    return this.xattrs.get(`${path} ${name}`);
  }
  setXattr(path: string, name: string, value: Uint8Array): void {
    this.record("setXattr", [path, name, value]);
    this.xattrs.set(`${path} ${name}`, Buffer.from(value));
  }
  idmappedTree(path: string, usernsFd: number): number {
    this.record("idmappedTree", [path, usernsFd]);
    return this.nextFd++;
  }
  release(pid: number): void {
    this.record("release", [pid]);
  }
  socketpair(): [number, number] {
    this.record("socketpair", []);
    return [this.nextFd++, this.nextFd++];
  }
  reap(pid: number): number | null {
    this.record("reap", [pid]);
    const status = this.exits.get(pid);
    if (status === undefined) return null;
    this.exits.delete(pid);
    return status;
  }
  tuneMalloc(): void {
    this.record("tuneMalloc", []);
  }
  trimMalloc(): void {
    this.record("trimMalloc", []);
  }
  exitedChild(): { pid: number; status: number } | null {
    this.record("exitedChild", []);
    const next = this.exits.entries().next().value;
    return next ? { pid: next[0], status: next[1] } : null;
  }
  openpty(): { master: number; slave: number } {
    this.record("openpty", []);
    return { master: this.nextFd++, slave: this.nextFd++ };
  }
  peerUid(fd: number): number {
    this.record("peerUid", [fd]);
    return 0;
  }
  fifoWrite(path: string, data: Uint8Array): boolean {
    this.record("fifoWrite", [path, data]);
    return true;
  }
  kill(pid: number, signal: number): void {
    this.record("kill", [pid, signal]);
  }
  idleScheduling(tid: number): void {
    this.record("idleScheduling", [tid]);
  }
  close(fd: number): void {
    this.record("close", [fd]);
  }
  writeFile(path: string, value: string): void {
    this.record("writeFile", [path, value]);
  }
  listenAbstract(name: Uint8Array): number {
    this.record("listenAbstract", [name]);
    return this.nextFd++;
  }
  pidfdOpen(pid: number): number {
    this.record("pidfdOpen", [pid]);
    return this.nextFd++;
  }
  netlinkSocket(pid: number): number {
    this.record("netlinkSocket", [pid]);
    return this.nextFd++;
  }
  netlinkCall(sock: number, request: Uint8Array): Buffer {
    this.record("netlinkCall", [sock, request]);
    // an ack: nlmsghdr of type NLMSG_ERROR with error 0
    const ack = Buffer.alloc(36);
    ack.writeUInt32LE(36, 0);
    ack.writeUInt16LE(2, 4);
    return ack;
  }
  makeRaw(fd: number): void {
    this.record("makeRaw", [fd]);
  }
  setWindowSize(fd: number, rows: number, cols: number): void {
    this.record("setWindowSize", [fd, rows, cols]);
  }
  sendWithFds(sock: number, data: Uint8Array, fds: number[]): void {
    this.record("sendWithFds", [sock, data, fds]);
  }
}
