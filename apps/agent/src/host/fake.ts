// A host in memory for unit tests: files and directories in a map, every call recorded, programs
// answered by a function the test sets, and each sync socket a stream the test (or a default
// "exec succeeded") drives. With FakeSyscalls it runs the lifecycle without root.
import { Duplex } from "node:stream";
import type { DirEntry, Host, HostFiles, HostProcesses, HostStreams, ProgramResult } from "./host.ts";

function fsError(code: string, path: string): Error {
  return Object.assign(new Error(`${code}: ${path}`), { code });
}

/** One sync message as the child writes it: int32 type, a, b, little-endian. */
export function syncMessage(type: number, a = 0, b = 0): Buffer {
  const m = Buffer.alloc(12);
  m.writeInt32LE(type, 0);
  m.writeInt32LE(a, 4);
  m.writeInt32LE(b, 8);
  return m;
}

export class FakeFiles implements HostFiles {
  readonly files = new Map<string, string>();
  readonly dirs = new Set<string>(["/"]);
  /** every mutating call, in order: "mkdir /x", "rmdir /x", "write /x", "remove /x", ... */
  readonly log: string[] = [];
  /** paths whose next mkdir fails with this code (an injected failure) */
  readonly failMkdir = new Map<string, string>();
  private nextFd = 500;

  readText(path: string): string {
    const text = this.files.get(path);
    if (text === undefined) throw fsError("ENOENT", path);
    return text;
  }
  readSmall(path: string): string {
    return this.readText(path);
  }
  readNamedFile(path: string): string {
    return this.readText(path);
  }
  writeText(path: string, text: string): void {
    this.log.push(`write ${path}`);
    this.files.set(path, text);
  }
  runDir(): string {
    return "/run/corral";
  }
  appendBytes(path: string, data: Uint8Array): void {
    this.files.set(path, (this.files.get(path) ?? "") + Buffer.from(data).toString());
  }
  exists(path: string): boolean {
    return this.files.has(path) || this.dirs.has(path);
  }
  /** owners set by chown (or by a test); root otherwise */
  readonly owners = new Map<string, { uid: number; gid: number }>();
  stat(path: string): { isDirectory: boolean; uid: number; gid: number } | undefined {
    const owner = this.owners.get(path) ?? { uid: 0, gid: 0 };
    return this.dirs.has(path) ? { isDirectory: true, ...owner } : this.files.has(path) ? { isDirectory: false, ...owner } : undefined;
  }
  chown(path: string, uid: number, gid: number): void {
    if (!this.exists(path)) throw fsError("ENOENT", path);
    this.log.push(`chown ${path} ${uid}:${gid}`);
    this.owners.set(path, { uid, gid });
  }
  mkdir(path: string, options?: { recursive?: boolean }): void {
    const injected = this.failMkdir.get(path);
    if (injected) {
      this.failMkdir.delete(path);
      throw fsError(injected, path);
    }
    if (this.dirs.has(path) && !options?.recursive) throw fsError("EEXIST", path);
    this.log.push(`mkdir ${path}`);
    this.dirs.add(path);
  }
  rmdir(path: string): void {
    if (!this.dirs.has(path)) throw fsError("ENOENT", path);
    if (this.readdir(path).length > 0) throw fsError("ENOTEMPTY", path);
    this.log.push(`rmdir ${path}`);
    this.dirs.delete(path);
  }
  remove(path: string): void {
    this.log.push(`remove ${path}`);
    this.files.delete(path);
  }
  readdir(path: string): DirEntry[] {
    const prefix = path.endsWith("/") ? path : `${path}/`;
    const direct = (p: string) => p.startsWith(prefix) && !p.slice(prefix.length).includes("/");
    return [
      ...[...this.dirs].filter(direct).map((p) => ({ name: p.slice(prefix.length), isDirectory: true })),
      ...[...this.files.keys()].filter(direct).map((p) => ({ name: p.slice(prefix.length), isDirectory: false })),
    ];
  }
  readlink(path: string): string {
    return `/fake/link/of${path}`;
  }
  realpath(path: string): string {
    return path;
  }
  openDirectory(path: string): number {
    if (!this.dirs.has(path)) throw fsError("ENOENT", path);
    return this.nextFd++;
  }
  write(_fd: number, data: Uint8Array): number {
    return data.length;
  }
  close(): void {}
}

export class FakeProcesses implements HostProcesses {
  readonly runs: Array<{ file: string; args: readonly string[] }> = [];
  /** how each program ends; by default at once with code 0 */
  answer: (file: string, args: readonly string[]) => ProgramResult = () => ({ code: 0, signal: null, timedOut: false, stderr: "" });

  run(file: string, args: readonly string[]): Promise<ProgramResult> {
    this.runs.push({ file, args });
    return Promise.resolve(this.answer(file, args));
  }
}

/** The parent's end of a sync socket: what the child says is pushed in, what the parent writes is kept. */
export class FakeSocket extends Duplex {
  readonly written: Buffer[] = [];
  override _read(): void {}
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.written.push(chunk);
    done();
  }
  /** the child says `message` */
  say(message: Buffer): void {
    this.push(message);
  }
  /** the child's end closes: its execve succeeded (the socket is close-on-exec), or it died */
  hangUp(): void {
    this.push(null);
  }
}

export class FakeStreams implements HostStreams {
  /** the sync sockets handed out, newest last */
  readonly sockets: FakeSocket[] = [];
  /**
   * What each new child says on its sync socket: by default nothing, then the end (its execve
   * succeeded). A test sets it to send an ERROR, or to keep the socket open.
   */
  child: (socket: FakeSocket) => void = (socket) => void setImmediate(() => socket.hangUp());

  socket(): FakeSocket {
    const socket = new FakeSocket();
    this.sockets.push(socket);
    this.child(socket);
    return socket;
  }
}

export class FakeHost implements Host {
  readonly files = new FakeFiles();
  readonly processes = new FakeProcesses();
  readonly streams = new FakeStreams();
}
