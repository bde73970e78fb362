// The container store: an LXC "lxcpath", <lxcpath>/<name>/config in LXC's own format, so that the
// real LXC tools read corral's containers. corral's own metadata lives beside the config in
// files that are not lxc.* keys (liblxc refuses a config with one unknown lxc.* key).
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync, lstatSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseLxcConfig, validateName, type ConfigIO, type ConfigIssue, type ContainerConfig } from "@corral/core";
import { ConfigFileRefused, readRegularFile } from "../host/bounded-read.ts";
import { expected } from "../errors.ts";


export class ContainerNotFound extends Error {
  constructor(readonly container: string) {
    super(`no container named "${container}"`);
    this.name = "ContainerNotFound";
  }
}

export class InvalidName extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InvalidName";
  }
}

/** A config file the agent will not read: not a regular file, or too large. */
export { ConfigFileRefused } from "../host/bounded-read.ts";

export interface LoadedConfig {
  config: ContainerConfig;
  warnings: ConfigIssue[];
  unsupported: ConfigIssue[];
}

/**
 * Limits on what one parse reads from the host (a config and everything it includes): a config
 * is at most 1 MiB, and an include tree cannot make the agent read without end.
 */
export interface ConfigReadLimits {
  fileBytes: number;
  files: number;
  totalBytes: number;
  dirEntries: number;
}

export const CONFIG_READ_LIMITS: Readonly<ConfigReadLimits> = { fileBytes: 1024 * 1024, files: 256, totalBytes: 8 * 1024 * 1024, dirEntries: 4096 };

/** A config file, read as every file on a request's behalf is (host/bounded-read.ts), at most 1 MiB. */
export function readConfigFile(path: string, maxBytes: number = CONFIG_READ_LIMITS.fileBytes): string {
  return readRegularFile(path, maxBytes);
}

/**
 * Real-filesystem access for lxc.include, handed to the pure parser: regular files and
 * directories only, each file read with readConfigFile, and per parse at most
 * CONFIG_READ_LIMITS.files files and totalBytes bytes. Make one per parse.
 */
export function boundedConfigIO(limits: Readonly<ConfigReadLimits> = CONFIG_READ_LIMITS): ConfigIO {
  let files = 0;
  let bytes = 0;
  return {
    readFile: (path) => {
      if (++files > limits.files) throw new ConfigFileRefused(`the includes read more than ${limits.files} files`);
      const text = readConfigFile(path, limits.fileBytes);
      bytes += text.length;
      if (bytes > limits.totalBytes) throw new ConfigFileRefused(`the includes read more than ${limits.totalBytes} bytes`);
      return text;
    },
    isDirectory: (path) => statSync(path).isDirectory(),
    listDir: (path) => {
      const names = readdirSync(path);
      if (names.length > limits.dirEntries) throw new ConfigFileRefused(`${path} has ${names.length} entries, more than the ${limits.dirEntries} an included directory may have`);
      return names;
    },
  };
}

/** Real-filesystem access for lxc.include (bounded, but its counts run across parses: prefer boundedConfigIO()). */
export const hostConfigIO: ConfigIO = {
  readFile: (path) => readConfigFile(path),
  isDirectory: (path) => statSync(path).isDirectory(),
  listDir: (path) => readdirSync(path),
};

/** A file as the parse cache saw it: a change of its mtime or size means parse again. */
interface Stamp {
  path: string;
  mtimeMs: number;
  size: number;
}

function stampOf(path: string): Stamp | undefined {
  try {
    const st = statSync(path);
    return { path, mtimeMs: st.mtimeMs, size: st.size };
  } catch (e) {
    expected(e, ["ENOENT", "ENOTDIR"], `checking ${path}`); // gone since it was read: the cache is stale
    return undefined;
  }
}

function isCurrent(s: Stamp): boolean {
  const now = stampOf(s.path);
  return now !== undefined && now.mtimeMs === s.mtimeMs && now.size === s.size;
}

/**
 * hostConfigIO that stamps every file and directory lxc.include reads, before reading it (a
 * change made during the parse is then seen by the next load).
 */
function stampingConfigIO(stamps: Stamp[]): ConfigIO {
  const stamp = (path: string) => {
    const s = stampOf(path);
    if (s) stamps.push(s);
  };
  const io = boundedConfigIO();
  return {
    readFile: (path) => {
      stamp(path);
      return io.readFile(path);
    },
    isDirectory: (path) => io.isDirectory(path),
    listDir: (path) => {
      stamp(path);
      return io.listDir(path);
    },
  };
}

/** "<file>:<line>: <key>: <message>", the way a parser issue is reported everywhere. */
export function describeIssue(issue: ConfigIssue): string {
  return `${issue.file}:${issue.line}: ${issue.key}: ${issue.message}`;
}

export class LxcPath {
  readonly root: string;
  /** Parsed configs by name, valid while the config and every file it includes are unchanged. */
  private readonly parsed = new Map<string, { stamps: Stamp[]; loaded: LoadedConfig }>();

  constructor(root: string) {
    this.root = resolve(root);
  }

  ensure(): void {
    mkdirSync(this.root, { recursive: true, mode: 0o755 });
  }

  /** The container's directory; the name is checked first, so the path cannot leave the lxcpath. */
  dir(name: string): string {
    const problem = validateName(name);
    if (problem) throw new InvalidName(problem);
    return join(this.root, name);
  }

  configPath(name: string): string {
    return join(this.dir(name), "config");
  }

  exists(name: string): boolean {
    return existsSync(this.configPath(name));
  }

  /** Names of the containers here: directories with a config file, and a valid name. */
  list(): string[] {
    if (!existsSync(this.root)) return [];
    return readdirSync(this.root, { withFileTypes: true })
      .filter((e) => e.isDirectory() && validateName(e.name) === null && existsSync(join(this.root, e.name, "config")))
      .map((e) => e.name)
      .sort();
  }

  readConfigText(name: string): string {
    if (!this.exists(name)) throw new ContainerNotFound(name);
    return readConfigFile(this.configPath(name));
  }

  /**
   * The parsed config. Parsing is cached until the config or a file or directory it includes
   * changes (mtime or size), which keeps it off every start: a check is one stat per file.
   */
  load(name: string): LoadedConfig {
    const cached = this.parsed.get(name);
    if (cached && cached.stamps.every(isCurrent)) return cached.loaded;
    const file = this.configPath(name);
    const own = stampOf(file);
    if (!own) throw new ContainerNotFound(name);
    const stamps = [own];
    const loaded = parseLxcConfig(readConfigFile(file), { file, io: stampingConfigIO(stamps) });
    this.parsed.set(name, { stamps, loaded });
    return loaded;
  }

  /** Parse config text as NAME's config file would be parsed (its includes resolved on the host). */
  parseAs(name: string, text: string): LoadedConfig {
    return parseLxcConfig(text, { file: this.configPath(name), io: boundedConfigIO() });
  }

  /** Where the rootfs is: lxc.rootfs.path, or <lxcpath>/<name>/rootfs as LXC defaults. */
  rootfs(name: string, config: ContainerConfig): string {
    return config.rootfs?.path ?? join(this.dir(name), "rootfs");
  }

  /** A file of corral's own beside the config (never an lxc.* key). */
  metaPath(name: string, file: string): string {
    return join(this.dir(name), file);
  }

  writeConfig(name: string, text: string): void {
    this.parsed.delete(name);
    writeFileSync(this.configPath(name), text, { mode: 0o640 });
  }

  /** Remove a container's directory. A rootfs that is a mount point or a symlink is not followed. */
  remove(name: string): void {
    const dir = this.dir(name);
    if (!existsSync(dir)) throw new ContainerNotFound(name);
    if (lstatSync(dir).isSymbolicLink()) throw new Error(`${dir} is a symlink; not removing it`);
    this.parsed.delete(name);
    rmSync(dir, { recursive: true, force: true });
  }
}
