// The host as the runtime reaches it, beside Syscalls (src/sys): its files (cgroupfs, /proc, the
// console log, boot ids), the programs it runs (hooks) and the streams it reads (the sync
// socket). The runtime takes a Host as a parameter and imports none of node:fs, node:net or
// node:child_process itself, so its lifecycle can be driven in unit tests by a fake host.
import type { Duplex } from "node:stream";

export interface DirEntry {
  name: string;
  isDirectory: boolean;
}

/**
 * Files, as the runtime uses them. Failures throw an Error whose `code` is the errno's name
 * ("ENOENT", "ENOTEMPTY", ...), as Node's do.
 */
export interface HostFiles {
  readText(path: string): string;
  /**
   * A small kernel file (cgroupfs, sysfs, procfs: at most 16 KiB is read) as text, read into one
   * buffer reused by every call. readFileSync gives a file whose size the kernel reports as 0 (every
   * cgroup file) a fresh 64 KiB buffer per read: the sampler's thousands of reads a minute would
   * make that much garbage.
   */
  readSmall(path: string): string;
  /**
   * A file someone else named (a seccomp profile): a regular file only, opened without blocking,
   * at most `maxBytes`; anything else throws ConfigFileRefused (host/bounded-read.ts).
   */
  readNamedFile(path: string, maxBytes: number): string;
  writeText(path: string, text: string, mode?: number): void;
  /**
   * corral's directory for what lives as long as a run (boot ids): on a memory filesystem, owned by
   * root and writable by no one else, made on first use.
   */
  runDir(): string;
  appendBytes(path: string, data: Uint8Array): void;
  exists(path: string): boolean;
  /** undefined when nothing is there */
  stat(path: string): { isDirectory: boolean; uid: number; gid: number } | undefined;
  /** chown(2), following symlinks (a cgroup file, a pty) */
  chown(path: string, uid: number, gid: number): void;
  mkdir(path: string, options?: { recursive?: boolean; mode?: number }): void;
  rmdir(path: string): void;
  /** rm -f: nothing there is fine */
  remove(path: string): void;
  readdir(path: string): DirEntry[];
  readlink(path: string): string;
  realpath(path: string): string;
  /** a directory opened O_RDONLY|O_DIRECTORY (close-on-exec), for CLONE_INTO_CGROUP and fd passing */
  openDirectory(path: string): number;
  write(fd: number, data: Uint8Array): number;
  close(fd: number): void;
}

export interface ProgramResult {
  /** exit code, or null when a signal ended it */
  code: number | null;
  signal: string | null;
  timedOut: boolean;
  stderr: string;
}

export interface HostProcesses {
  /** Run a program to its end (no shell unless it is one), with this environment and a time limit. */
  run(file: string, args: readonly string[], options: { env: Record<string, string | undefined>; timeoutMs: number }): Promise<ProgramResult>;
}

export interface HostStreams {
  /** A duplex stream on a connected socket we hold the fd of (the sync socket). */
  socket(fd: number): Duplex;
}

export interface Host {
  files: HostFiles;
  processes: HostProcesses;
  streams: HostStreams;
}
