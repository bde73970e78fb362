// Parser for LXC's container config format (lxc.container.conf(5), LXC 5.0), following
// liblxc's parse_line(): `key = value` lines; "#" starts a comment only as the first non-blank
// character; lines whose key does not start with "lxc." are ignored; surrounding blanks and one
// pair of matching quotes around the value are removed.

import type { ContainerConfig } from "./config.ts";
import { applyKey, finishConfig } from "./lxc-config-keys.ts";
import {
  ConfigError,
  ParseContext,
  type ConfigIO,
  type ConfigIssue,
  type Where,
} from "./lxc-config-context.ts";

export { ConfigError, type ConfigIO, type ConfigIssue } from "./lxc-config-context.ts";

export interface ParseOptions {
  /** the file's path: reported in issues and errors, and the base of relative includes */
  file: string;
  /** needed only when the text uses lxc.include */
  io?: ConfigIO;
}

export interface ParseResult {
  config: ContainerConfig;
  /** keys corral ignores; safe to start anyway */
  warnings: ConfigIssue[];
  /** keys corral cannot honour: the caller must refuse to start the container */
  unsupported: ConfigIssue[];
}

const MAX_INCLUDE_DEPTH = 16;

export function parseLxcConfig(text: string, opts: ParseOptions): ParseResult {
  const stack: string[] = [opts.file];
  const ctx: ParseContext = new ParseContext((path, where) => includePath(ctx, resolvePath(path, where.file), where));

  function includePath(c: ParseContext, path: string, where: Where): void {
    const io = opts.io;
    if (!io) throw new ConfigError(where, "lxc.include needs file access, and none was given to the parser");
    if (stack.includes(path)) throw new ConfigError(where, `${path} includes itself`);
    if (stack.length > MAX_INCLUDE_DEPTH) throw new ConfigError(where, `includes are nested more than ${MAX_INCLUDE_DEPTH} deep`);
    for (const file of includedFiles(io, path, where)) {
      const body = readIncluded(io, file, where);
      stack.push(file);
      parseLines(c, body, file);
      stack.pop();
    }
  }

  parseLines(ctx, text, opts.file);
  finishConfig(ctx);
  return { config: ctx.config, warnings: ctx.warnings, unsupported: ctx.unsupported };
}

function parseLines(ctx: ParseContext, text: string, file: string): void {
  const lines = text.split("\n");
  lines.forEach((raw, i) => {
    const line = raw.replace(/\r$/, "").trimStart();
    // Like liblxc: comments, blank lines and anything not starting with "lxc." are skipped.
    if (line.startsWith("#") || !line.startsWith("lxc.")) return;
    const eq = line.indexOf("=");
    const key = (eq < 0 ? line : line.slice(0, eq)).trim();
    const where = { key, file, line: i + 1 };
    if (eq < 0) throw new ConfigError(where, `malformed line, expected "key = value": ${JSON.stringify(line)}`);
    applyKey(ctx, key, unquote(line.slice(eq + 1).trim()), where);
  });
}

/** liblxc drops one pair of matching quotes around a value: lxc.uts.name = "c1". */
function unquote(value: string): string {
  const first = value.charAt(0);
  if (value.length > 1 && (first === '"' || first === "'") && value.endsWith(first)) return value.slice(1, -1);
  return value;
}

/** A relative include is taken relative to the including file's directory. */
function resolvePath(path: string, from: string): string {
  if (path.startsWith("/")) return path;
  const slash = from.lastIndexOf("/");
  return slash < 0 ? path : `${from.slice(0, slash + 1)}${path}`;
}

/** A file, or a directory's *.conf files in sorted order (as common.conf.d/README promises). */
function includedFiles(io: ConfigIO, path: string, where: Where): string[] {
  let isDir: boolean;
  let names: string[] = [];
  try {
    isDir = io.isDirectory(path);
    if (isDir) names = io.listDir(path);
  } catch (err) {
    throw new ConfigError(where, `cannot read include ${path}: ${(err as Error).message}`);
  }
  if (!isDir) return [path];
  const dir = path.endsWith("/") ? path : `${path}/`;
  return names
    .filter((n) => n.endsWith(".conf") && !n.startsWith("."))
    .sort()
    .map((n) => `${dir}${n}`);
}

function readIncluded(io: ConfigIO, file: string, where: Where): string {
  try {
    return io.readFile(file);
  } catch (err) {
    throw new ConfigError(where, `cannot read include ${file}: ${(err as Error).message}`);
  }
}

/**
 * Config text read from `file` and stored elsewhere (`corral create --config sub/my.conf` becomes
 * <lxcpath>/NAME/config): each relative lxc.include made absolute against the file's own
 * directory, where it pointed, so that it still does from the container's directory.
 */
export function anchorIncludes(text: string, fileDir: string): string {
  return text
    .split("\n")
    .map((raw) => {
      const m = /^(\s*lxc\.include\s*=\s*)(["']?)([^"'\s][^"']*?)\2(\s*)$/.exec(raw.replace(/\r$/, ""));
      if (!m || m[3]!.startsWith("/")) return raw;
      return `${m[1]}${m[2]}${resolvePath(m[3]!, `${fileDir.replace(/\/+$/, "")}/file`)}${m[2]}${m[4]}`;
    })
    .join("\n");
}
