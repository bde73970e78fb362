// The debian template's cached base: a minbase Debian built once with mmdebstrap (or
// debootstrap) from the mirror this machine's apt uses, under
// /var/cache/corral/debian/<release>-<arch>/, built aside and renamed, one build at a time. The
// build takes a minute or more: every program is spawned asynchronously, so the agent's event
// loop never waits on it, and each output line goes to a progress callback. Runs on the host.
import { spawn } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { mkdir, open, readdir, readFile, rename, rm, symlink, unlink, writeFile } from "node:fs/promises";
import { createInterface } from "node:readline";
import { join } from "node:path";
import { debianSourceLines, readHostAptSources } from "./apt-sources.ts";
import { expected } from "../errors.ts";

export type Progress = (line: string) => void;

export const DEFAULT_RELEASE = "bookworm";
export const DEFAULT_CACHE_DIR = "/var/cache/corral";
/** ttys the container gets (lxc.tty.max) and gettys enabled on, as lxc-debian does */
export const DEBIAN_TTYS = 4;

/**
 * On top of minbase (the Essential and required packages: login, passwd, apt, ...): systemd as
 * init, iproute2 and ping to look at the network, procps (ps, kill, free), ca-certificates and
 * netbase as lxc-debian adds them, and openssh-server, so that the host can reach a container
 * over the bridge with the key given at create. No ifupdown and no DHCP client: corral
 * configures eth0 before the init runs, so there is no networking unit to wait for. No dbus,
 * as in lxc-debian's image: systemd-logind is then skipped by its own condition.
 */
export const DEBIAN_PACKAGES = ["systemd", "systemd-sysv", "iproute2", "iputils-ping", "procps", "ca-certificates", "netbase", "openssh-server", "login", "passwd"];

export function debianArch(nodeArch = process.arch): string {
  const arch = ({ x64: "amd64", arm64: "arm64", ia32: "i386", ppc64: "ppc64el", s390x: "s390x", riscv64: "riscv64" } as Record<string, string>)[nodeArch];
  if (!arch) throw new Error(`no Debian architecture for ${nodeArch}`);
  return arch;
}

export function basePath(release: string, arch = debianArch(), cacheDir = DEFAULT_CACHE_DIR): string {
  return join(cacheDir, "debian", `${release}-${arch}`);
}

/** A release name apt would take: bookworm, trixie, sid, stable, ... */
export function checkRelease(release: string): string | undefined {
  return /^[a-z][a-z0-9-]{1,31}$/.test(release) ? undefined : `"${release}" is not a Debian release name (like bookworm)`;
}

/** A password chpasswd and shadow can hold. */

// ---- running programs --------------------------------------------------------------------------

export function findProgram(name: string): string | undefined {
  const dirs = (process.env.PATH ?? "").split(":").concat(["/usr/sbin", "/usr/bin", "/sbin", "/bin"]);
  for (const dir of dirs) {
    const path = join(dir, name);
    try {
      if (statSync(path).isFile()) return path;
    } catch (e) {
      expected(e, ["ENOENT", "ENOTDIR", "EACCES"], `looking for ${path}`); // not here
    }
  }
  return undefined;
}

/** Programs running for a build: ended with their process (and by PDEATHSIG if it is killed). */
const running = new Set<ReturnType<typeof spawn>>();
let killOnExit = false;

/**
 * Run a program, each line it prints (stdout and stderr) passed to `progress`; resolves with its
 * stdout, rejects with its last lines when it fails.
 */
export function runProgram(cmd: string, args: readonly string[], progress: Progress, opts: { stdin?: string; quiet?: boolean } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    // Through setpriv --pdeathsig (util-linux), the program gets SIGTERM when this process
    // dies, even by SIGKILL, as a container's init does: no builder outlives the agent.
    const setpriv = findProgram("setpriv");
    const [file, argv] = setpriv ? [setpriv, ["--pdeathsig", "TERM", "--", cmd, ...args]] : [cmd, args];
    const child = spawn(file, argv, {
      stdio: [opts.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive", LC_ALL: "C.UTF-8" },
    });
    running.add(child);
    if (!killOnExit) {
      killOnExit = true;
      // mmdebstrap cleans up after SIGTERM; left running, it would write into a build that the
      // next agent (finding the lock's pid dead) starts again from scratch
      process.once("exit", () => running.forEach((c) => c.kill("SIGTERM")));
    }
    const tail: string[] = [];
    let stdout = "";
    const onLine = (line: string) => {
      tail.push(line);
      if (tail.length > 20) tail.shift();
      if (!opts.quiet) progress(line);
    };
    const out = child.stdout!;
    out.on("data", (b: Buffer) => void (stdout += b.toString()));
    createInterface({ input: out }).on("line", onLine);
    createInterface({ input: child.stderr! }).on("line", onLine);
    if (child.stdin) {
      // a program that exits without reading its input (EPIPE) says so by its exit status
      child.stdin.on("error", () => {});
      child.stdin.end(opts.stdin);
    }
    child.on("error", (e) => {
      running.delete(child);
      reject(new Error(`${cmd}: ${e.message}`));
    });
    child.on("close", (code, signal) => {
      running.delete(child);
      if (code === 0) resolve(stdout);
      else reject(new Error(`${cmd} ${signal ? `was killed by ${signal}` : `exited with ${code}`}${tail.length ? `:\n${tail.join("\n")}` : ""}`));
    });
  });
}

// ---- the cached base ---------------------------------------------------------------------------

/** Builds in flight in this process, by base path: two creates share one build. */
const building = new Map<string, Promise<string>>();

/** Makes a base at `target` (which does not exist yet); the real one runs mmdebstrap. */
export type BaseBuilder = (release: string, target: string, progress: Progress) => Promise<void>;

export interface BaseOptions {
  /** default /var/cache/corral */
  cacheDir?: string;
  /** for tests: what builds the base instead of mmdebstrap */
  builder?: BaseBuilder;
  /** how often a build held by another process is checked (ms) */
  lockPollMs?: number;
}

/**
 * The cached base rootfs of `release` for this machine's architecture, built when missing: its
 * path. Root tests and the bench call this to get a Debian rootfs. Concurrent calls in one
 * process share one build; another process building the same base is waited for (a lock file
 * holding its pid; a dead holder's lock is taken over). A build is made beside the cache and
 * renamed into place, so a base is either whole or absent.
 */
export function ensureDebianBase(release = DEFAULT_RELEASE, progress: Progress = () => {}, opts: BaseOptions = {}): Promise<string> {
  const problem = checkRelease(release);
  if (problem) return Promise.reject(new Error(problem));
  const base = basePath(release, debianArch(), opts.cacheDir ?? DEFAULT_CACHE_DIR);
  if (isBuilt(base)) return Promise.resolve(base);
  let pending = building.get(base);
  if (!pending) {
    pending = buildLocked(release, base, progress, opts).finally(() => building.delete(base));
    building.set(base, pending);
  } else {
    progress(`waiting for the build of ${base} already under way`);
  }
  return pending;
}

/**
 * What a base is made of: a base cached by another recipe (an older corral's package list) is
 * rebuilt. Kept beside the base as <base>.recipe, written once the base is in place.
 */
export const BASE_RECIPE = JSON.stringify({ variant: "minbase", packages: DEBIAN_PACKAGES, slim: true, ttys: DEBIAN_TTYS, version: 1 });

function isBuilt(base: string): boolean {
  if (!existsSync(join(base, "etc/os-release"))) return false;
  try {
    return readFileSync(`${base}.recipe`, "utf8") === BASE_RECIPE;
  } catch (e) {
    expected(e, ["ENOENT"], `reading ${base}.recipe`); // a base from before recipes: build again
    return false;
  }
}

async function buildLocked(release: string, base: string, progress: Progress, opts: BaseOptions): Promise<string> {
  await mkdir(join(base, ".."), { recursive: true, mode: 0o755 });
  const lock = `${base}.lock`;
  await takeLock(lock, progress, opts.lockPollMs ?? 1000);
  try {
    if (isBuilt(base)) return base;
    const partial = `${base}.partial`;
    await rm(partial, { recursive: true, force: true });
    const started = Date.now();
    progress(`building Debian ${release} (${debianArch()}) into ${base}: the first create downloads it, later ones copy it`);
    try {
      await (opts.builder ?? buildBase)(release, partial, progress);
    } catch (e) {
      // nothing half-built stays behind (any caller may ask for any release name)
      await rm(partial, { recursive: true, force: true });
      throw e;
    }
    // a base of another recipe, or half made, is swapped out only once the new one is whole
    const old = `${base}.old`;
    await rm(old, { recursive: true, force: true });
    await rename(base, old).catch((e: unknown) => {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    });
    await rename(partial, base);
    await writeFile(`${base}.recipe`, BASE_RECIPE);
    await rm(old, { recursive: true, force: true });
    progress(`Debian ${release} built in ${Math.round((Date.now() - started) / 1000)} s and cached`);
    return base;
  } finally {
    await unlink(lock).catch(() => undefined);
  }
}

async function buildBase(release: string, target: string, progress: Progress): Promise<void> {
  await bootstrap(release, target, progress);
  await prepareBase(target);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function takeLock(lock: string, progress: Progress, pollMs: number): Promise<void> {
  let told = false;
  for (;;) {
    try {
      const fd = await open(lock, "wx", 0o644);
      await fd.writeFile(`${process.pid}\n`);
      await fd.close();
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    const holder = Number((await readFile(lock, "utf8").catch(() => "")).trim());
    if (!Number.isInteger(holder) || holder <= 0 || holder === process.pid || !pidAlive(holder)) {
      // a lock left by a build that died: taken over
      await unlink(lock).catch(() => undefined);
      continue;
    }
    if (!told) progress(`waiting for another build of this base (pid ${holder}, lock ${lock})`);
    told = true;
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** mmdebstrap when installed (one apt run, the machine's sources as given), else debootstrap. */
async function bootstrap(release: string, target: string, progress: Progress): Promise<void> {
  const sources = debianSourceLines(readHostAptSources(), release);
  const arch = debianArch();
  const mmdebstrap = findProgram("mmdebstrap");
  if (mmdebstrap) {
    progress(`mmdebstrap from ${sources.map((s) => s.replace(/^deb (\[[^\]]*\] )?/, "")).join(", ")}`);
    await runProgram(mmdebstrap, ["--verbose", "--mode=root", "--format=directory", "--variant=minbase", `--architectures=${arch}`, `--include=${DEBIAN_PACKAGES.join(",")}`, release, target, ...sources], progress);
    return;
  }
  const debootstrap = findProgram("debootstrap");
  if (!debootstrap) throw new Error("the debian template needs mmdebstrap or debootstrap (Debian packages of the same names)");
  const [first] = sources;
  const m = /^deb (?:\[signed-by=(\S+)\] )?(\S+) (\S+) (.*)$/.exec(first!)!;
  progress(`debootstrap from ${m[2]}`);
  const keyring = m[1] ? [`--keyring=${m[1]}`] : [];
  await runProgram(debootstrap, ["--variant=minbase", `--arch=${arch}`, `--components=${m[4]!.replaceAll(" ", ",")}`, `--include=${DEBIAN_PACKAGES.join(",")}`, ...keyring, release, target, m[2]!], progress);
  // debootstrap knows one source: the others go into the image's sources.list
  await writeFile(join(target, "etc/apt/sources.list"), `${sources.join("\n")}\n`);
}

/**
 * What every container made from the base shares, done once in the cache (lxc-debian's
 * configure step, for systemd): multi-user as the default target, a getty on each of the
 * container's ttys, and nothing that must differ per container (SSH host keys, machine id).
 */
async function prepareBase(rootfs: string): Promise<void> {
  const system = join(rootfs, "etc/systemd/system");
  await rm(join(system, "default.target"), { force: true });
  await symlink("/lib/systemd/system/multi-user.target", join(system, "default.target"));
  await mkdir(join(system, "getty.target.wants"), { recursive: true });
  for (let tty = 1; tty <= DEBIAN_TTYS; tty++) {
    const link = join(system, "getty.target.wants", `getty@tty${tty}.service`);
    await rm(link, { force: true });
    await symlink("/lib/systemd/system/getty@.service", link);
  }
  await rmGlob(join(rootfs, "etc/ssh"), /^ssh_host_.*key/);
  await slim(rootfs);
  await writeFile(join(rootfs, "etc/machine-id"), "");
  await rm(join(rootfs, "var/lib/dbus/machine-id"), { force: true });
  // the build machine's name, which mmdebstrap copies in
  await writeFile(join(rootfs, "etc/hostname"), "debian\n");
}

/** dpkg's rule for the image, so that packages installed later stay slim too. */
export const DPKG_SLIM = `# corral's debian template: no documentation, manuals or translations, as in Debian's slim images
path-exclude=/usr/share/doc/*
path-include=/usr/share/doc/*/copyright
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
path-include=/usr/share/locale/locale.alias
`;

/**
 * Documentation, manuals and translations out (a quarter of the base, and of every copy); the
 * licences stay. dpkg is told to leave them out of later installs.
 */
async function slim(rootfs: string): Promise<void> {
  await mkdir(join(rootfs, "etc/dpkg/dpkg.cfg.d"), { recursive: true });
  await writeFile(join(rootfs, "etc/dpkg/dpkg.cfg.d/01-corral-slim"), DPKG_SLIM);
  const share = join(rootfs, "usr/share");
  for (const dir of ["man", "info"]) await rmGlob(join(share, dir), /./);
  await rmGlob(join(share, "locale"), /^(?!locale\.alias$)/);
  for (const pkg of await readdir(join(share, "doc")).catch(() => [] as string[])) {
    await rmGlob(join(share, "doc", pkg), /^(?!copyright$)/);
  }
}

async function rmGlob(dir: string, pattern: RegExp): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  await Promise.all(names.filter((n) => pattern.test(n)).map((n) => rm(join(dir, n), { recursive: true, force: true })));
}
