// Shared pieces of the LXC config parser: where a line came from, the issues it raises, and the
// mutable state one parse builds up (including lxc.include'd files).

import { emptyConfig, type ContainerConfig, type NetConfig, type NetType } from "./config.ts";

/** A key that corral ignores (warning) or cannot honour (unsupported), and where it was set. */
export interface ConfigIssue {
  key: string;
  file: string;
  /** 1-based */
  line: number;
  message: string;
}

/** File access for lxc.include, injected so that the parser stays pure. */
export interface ConfigIO {
  /** throws when the file cannot be read */
  readFile(path: string): string;
  /** false when the path is missing or not a directory */
  isDirectory(path: string): boolean;
  /** entry names (not paths) of a directory */
  listDir(path: string): string[];
}

export type Where = { key: string; file: string; line: number };

export class ConfigError extends Error {
  readonly key: string;
  readonly file: string;
  readonly line: number;
  readonly reason: string;

  constructor(where: Where, reason: string) {
    super(`${where.file}:${where.line}: ${where.key}: ${reason}`);
    this.name = "ConfigError";
    this.key = where.key;
    this.file = where.file;
    this.line = where.line;
    this.reason = reason;
  }
}

/** A network being assembled: its type may come after its other keys. */
export type NetDraft = Omit<NetConfig, "type"> & { type?: NetType };

export class ParseContext {
  readonly config: ContainerConfig = emptyConfig();
  warnings: ConfigIssue[] = [];
  unsupported: ConfigIssue[] = [];
  readonly nets = new Map<number, { draft: NetDraft; firstSeen: Where }>();
  /** nets of a type corral cannot build: their other keys are skipped, the type is reported */
  readonly skippedNets = new Set<number>();
  rootfsOptions: { value: string; where: Where } | undefined;
  lastCapKey: Where | undefined;
  /** where each lxc.idmap range of config.idmap was set, in the same order */
  idmapLines: Array<{ where: Where; value: string }> = [];

  constructor(
    readonly includeFile: (path: string, where: Where) => void,
  ) {}

  warn(where: Where, message: string): void {
    this.warnings.push({ ...where, message });
  }

  refuse(where: Where, message: string): void {
    this.unsupported.push({ ...where, message });
  }

  /** A later assignment (or a reset) of a key replaces what earlier lines said about it. */
  forget(key: string): void {
    this.warnings = this.warnings.filter((i) => i.key !== key);
    this.unsupported = this.unsupported.filter((i) => i.key !== key);
  }

  /** Forget every key under a prefix (a reset of a whole network). */
  forgetPrefix(prefix: string): void {
    this.warnings = this.warnings.filter((i) => !i.key.startsWith(prefix));
    this.unsupported = this.unsupported.filter((i) => !i.key.startsWith(prefix));
  }

  net(index: number, where: Where): NetDraft {
    let entry = this.nets.get(index);
    if (!entry) {
      entry = { draft: { index, ipv4Addresses: [], ipv6Addresses: [] }, firstSeen: where };
      this.nets.set(index, entry);
    }
    return entry.draft;
  }
}
