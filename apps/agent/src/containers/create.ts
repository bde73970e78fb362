// Creating and deleting containers in the lxcpath: a template's config and rootfs, or a config
// given as LXC text. Every check runs before anything is written, so a refusal changes nothing.
// The debian template downloads and builds for minutes the first time: beginCreate checks and
// reserves the name at once, and its run() does the slow part asynchronously, with progress.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { ConfigError, DEFAULT_IDMAP, validateName, type ContainerConfig } from "@corral/core";
import { ipv4AddressesInConfigText, nextFreeAddress } from "../runtime/bridge.ts";
import {
  checkRelease, checkRootPassword, checkSshKey, configureDebianRootfs, copyBase, debianConfig, DEBIAN_SECCOMP, DEFAULT_CACHE_DIR,
  DEFAULT_RELEASE, ensureDebianBase, type Progress,
} from "./debian.ts";
import { describeIssue, type LxcPath } from "./lxcpath.ts";
import { Refusal } from "../runtime/instance.ts";
import { applyTemplate, configText, isTemplate, TEMPLATES, type QuickTemplateName } from "./templates.ts";
import { expected } from "../errors.ts";
import { shiftOwnership, shiftOwnershipSync } from "./shift.ts";
import { nativeSyscalls } from "../sys/native.ts";

export interface CreateRequest {
  name: string;
  template?: string;
  /** LXC config text; with a template, its keys are added after the template's */
  config?: string;
  /** the debian template's release (default bookworm) */
  release?: string;
  /** the debian template's root password; never logged */
  rootPassword?: string;
  /** the debian template's /root/.ssh/authorized_keys (the key file's text) */
  sshKey?: string;
  /**
   * An unprivileged container: the template's config gets the default map (root inside is host
   * uid 100000, as Incus' default) and its rootfs is chowned by it, as lxc-create with an idmap
   * leaves one (shift.ts). Only with a template: a config of one's own says lxc.idmap itself.
   */
  unprivileged?: boolean;
}

export interface CreateResult {
  name: string;
  configPath: string;
  warnings: string[];
}

/** A create checked and its name reserved; run() makes it (and removes the reservation on failure). */
export interface PendingCreate extends CreateResult {
  run(progress?: Progress): Promise<CreateResult>;
}

export interface CreateOptions {
  /** where the debian template caches its base (default /var/cache/corral) */
  cacheDir?: string;
}

/** The file marking a directory whose container is being made, holding the maker's pid. */
const CREATING = ".creating";

function checkRequest(lxcpath: LxcPath, req: CreateRequest): string[] {
  const problem = validateName(req.name);
  if (problem) throw new Refusal(problem, "BAD_REQUEST");
  if (req.template !== undefined && !isTemplate(req.template)) {
    throw new Refusal(`unknown template "${req.template}" (known: ${TEMPLATES.join(", ")})`, "BAD_REQUEST");
  }
  if (req.template === undefined && req.config === undefined) {
    throw new Refusal("give a template or a config", "BAD_REQUEST");
  }
  if (req.unprivileged && req.template === undefined) {
    throw new Refusal(`unprivileged: only with a template (it chowns the rootfs the template lays out); a config of your own sets "lxc.idmap = u 0 100000 65536" and "lxc.idmap = g 0 100000 65536" itself`, "BAD_REQUEST");
  }
  if (req.template !== "debian") {
    const given = (["release", "rootPassword", "sshKey"] as const).filter((k) => req[k] !== undefined);
    if (given.length) throw new Refusal(`${given.join(", ")}: only the debian template takes ${given.length > 1 ? "these" : "this"}`, "BAD_REQUEST");
  } else {
    const problem = (req.release !== undefined && checkRelease(req.release)) ||
      (req.rootPassword !== undefined && checkRootPassword(req.rootPassword)) ||
      (req.sshKey !== undefined && checkSshKey(req.sshKey));
    if (problem) throw new Refusal(problem, "BAD_REQUEST");
  }
  const dir = join(lxcpath.root, req.name);
  if (existsSync(dir) && !reclaimAbandoned(dir)) {
    throw new Refusal(existsSync(join(dir, CREATING)) ? `"${req.name}" is being created` : `a container named "${req.name}" already exists`);
  }
  return checkConfigText(lxcpath, req.name, req.config ?? "");
}

/** Was this directory reserved by a create whose process has died (its marker names a dead pid)? */
function isAbandoned(dir: string): boolean {
  if (existsSync(join(dir, "config"))) return false;
  let pid: number;
  try {
    pid = Number(readFileSync(join(dir, CREATING), "utf8").trim());
  } catch (e) {
    expected(e, ["ENOENT"], `reading ${join(dir, CREATING)}`); // no marker: not a create's
    return false;
  }
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ESRCH";
  }
}

/** A directory left by a create whose process died: removed, and its name free again. */
function reclaimAbandoned(dir: string): boolean {
  if (!isAbandoned(dir)) return false;
  rmSync(dir, { recursive: true, force: true });
  return true;
}

/**
 * Remove what creates cut short by their process's death left in the lxcpath (a half-copied
 * rootfs is most of a Debian): the agent does this when it starts. The names removed.
 */
export async function removeAbandonedCreates(lxcpath: LxcPath): Promise<string[]> {
  if (!existsSync(lxcpath.root)) return [];
  const names = readdirSync(lxcpath.root, { withFileTypes: true })
    .filter((e) => e.isDirectory() && validateName(e.name) === null && isAbandoned(join(lxcpath.root, e.name)))
    .map((e) => e.name);
  for (const name of names) await rm(join(lxcpath.root, name), { recursive: true, force: true });
  return names;
}

/** The container's directory, made and marked; a concurrent create of the same name fails here. */
function reserve(lxcpath: LxcPath, name: string): string {
  lxcpath.ensure();
  const dir = join(lxcpath.root, name);
  try {
    mkdirSync(dir, { mode: 0o750 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") throw new Refusal(`a container named "${name}" already exists`);
    throw e;
  }
  writeFileSync(join(dir, CREATING), `${process.pid}\n`);
  return dir;
}

/** Write the config and check that the whole file parses: the template's keys with the user's. */
function writeAndCheck(lxcpath: LxcPath, name: string, templateText: string, template: string | undefined, userConfig: string): void {
  const text = template ? templateText + (userConfig ? `\n# Given at create:\n${userConfig}\n` : "") : userConfig;
  lxcpath.writeConfig(name, text);
  lxcpath.load(name);
}

/** The default map added to a template's config, for `unprivileged`. */
function unprivilegedIf(req: CreateRequest, config: ContainerConfig): ContainerConfig {
  return req.unprivileged ? { ...config, idmap: [...DEFAULT_IDMAP] } : config;
}

/** The host or busybox template laid out (and shifted, for `unprivileged`); its config text. */
function quickTemplateText(req: CreateRequest, rootfs: string): string {
  if (!req.template) return "";
  const config = unprivilegedIf(req, applyTemplate(req.template as QuickTemplateName, req.name, rootfs));
  if (req.unprivileged) shiftOwnershipSync(nativeSyscalls, rootfs, DEFAULT_IDMAP);
  return configText(config, req.template, req.unprivileged ? "unprivileged, root inside is host uid 100000" : undefined);
}

function undo(dir: string, e: unknown): never {
  rmSync(dir, { recursive: true, force: true });
  throw e instanceof ConfigError ? new Refusal(e.message, "BAD_REQUEST") : e;
}

/** Create at once: a config, or the host or busybox template. The debian template needs createContainerAsync. */
export function createContainer(lxcpath: LxcPath, req: CreateRequest): CreateResult {
  // (in code: createContainerAsync or beginCreate)
  if (req.template === "debian") throw new Refusal(`the debian template builds for a while: make it first with "corral create ${req.name} --template debian"`, "BAD_REQUEST");
  const warnings = checkRequest(lxcpath, req);
  const dir = reserve(lxcpath, req.name);
  try {
    writeAndCheck(lxcpath, req.name, quickTemplateText(req, join(dir, "rootfs")), req.template, req.config ?? "");
    rmSync(join(dir, CREATING));
  } catch (e) {
    undo(dir, e);
  }
  return { name: req.name, configPath: lxcpath.configPath(req.name), warnings };
}

/**
 * Check a create and reserve its name now; the returned run() makes it. For the debian template:
 * the cached base (built when missing, see ensureDebianBase), copied and configured, then the
 * next free address on the managed bridge and the config written in one synchronous step, so
 * two creates in one process never take the same address.
 */
export function beginCreate(lxcpath: LxcPath, req: CreateRequest, opts: CreateOptions = {}): PendingCreate {
  const warnings = checkRequest(lxcpath, req);
  const dir = reserve(lxcpath, req.name);
  const result: CreateResult = { name: req.name, configPath: lxcpath.configPath(req.name), warnings };
  let ran = false;
  const run = async (progress: Progress = () => {}): Promise<CreateResult> => {
    if (ran) throw new Error("a create runs once");
    ran = true;
    try {
      if (req.template !== "debian") {
        writeAndCheck(lxcpath, req.name, quickTemplateText(req, join(dir, "rootfs")), req.template, req.config ?? "");
      } else {
        const release = req.release ?? DEFAULT_RELEASE;
        const base = await ensureDebianBase(release, progress, { cacheDir: opts.cacheDir ?? DEFAULT_CACHE_DIR });
        const rootfs = join(dir, "rootfs");
        await copyBase(base, rootfs, progress);
        await configureDebianRootfs(rootfs, req.name, req, progress);
        if (req.unprivileged) {
          progress(`giving ${rootfs} to the mapped ids (root inside is host uid ${DEFAULT_IDMAP[0]!.outside})`);
          await shiftOwnership(nativeSyscalls, rootfs, DEFAULT_IDMAP);
        }
        // from here to the config written: synchronous, so no other create takes the address
        const address = nextFreeAddress(usedAddresses(lxcpath, req.name));
        const seccomp = join(dir, "common.seccomp");
        writeFileSync(seccomp, DEBIAN_SECCOMP);
        const templateText = configText(unprivilegedIf(req, debianConfig(req.name, rootfs, address, seccomp)), "debian", `Debian ${release}`);
        writeAndCheck(lxcpath, req.name, templateText, req.template, req.config ?? "");
        progress(`${req.name} gets ${address} on the managed bridge`);
      }
      rmSync(join(dir, CREATING));
    } catch (e) {
      undo(dir, e);
    }
    progress(`created ${req.name} (${result.configPath})`);
    return result;
  };
  return { ...result, run };
}

export function createContainerAsync(lxcpath: LxcPath, req: CreateRequest, progress?: Progress, opts?: CreateOptions): Promise<CreateResult> {
  try {
    return beginCreate(lxcpath, req, opts).run(progress);
  } catch (e) {
    return Promise.reject(e instanceof Error ? e : new Error(String(e)));
  }
}

/**
 * The IPv4 addresses other containers of the lxcpath are configured with (their config text,
 * so a config that no longer parses still keeps its address).
 */
export function usedAddresses(lxcpath: LxcPath, except?: string): string[] {
  if (!existsSync(lxcpath.root)) return [];
  const used: string[] = [];
  for (const entry of readdirSync(lxcpath.root, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name === except) continue;
    try {
      used.push(...ipv4AddressesInConfigText(readFileSync(join(lxcpath.root, entry.name, "config"), "utf8")));
    } catch (e) {
      expected(e, ["ENOENT"], `reading ${entry.name}'s config for its addresses`); // no config: nothing taken
    }
  }
  return used;
}

/** Parse config text as it would be read from the container's directory; refusals name the line. */
export function checkConfigText(lxcpath: LxcPath, name: string, text: string): string[] {
  try {
    const parsed = lxcpath.parseAs(name, text);
    return [...parsed.warnings, ...parsed.unsupported].map(describeIssue);
  } catch (e) {
    if (e instanceof ConfigError) throw new Refusal(e.message, "BAD_REQUEST");
    throw e;
  }
}

export function deleteContainer(lxcpath: LxcPath, name: string, state: string): void {
  const problem = validateName(name);
  if (problem) throw new Refusal(problem, "BAD_REQUEST");
  if (!lxcpath.exists(name)) throw new Refusal(`no container named "${name}"`, "NOT_FOUND");
  if (state !== "STOPPED") throw new Refusal(`${name} is ${state}: stop it before deleting it`);
  lxcpath.remove(name);
}
