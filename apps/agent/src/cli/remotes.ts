// The CLI's remotes, as `incus remote` keeps them: a name for an agent's URL, its token, and the
// certificate pinned when it was added. One JSON file, <config>/remotes.json (CORRAL_CONFIG_DIR,
// else $XDG_CONFIG_HOME/corral, else ~/.config/corral), 0600 in a 0700 directory, since it holds
// tokens that are root on each agent. Read by every command that talks to an agent, so it stays
// small: adding one (remote-admin.ts) is bundled apart.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { CertificatePin } from "@corral/core";

export interface Remote {
  url: string;
  /** the agent's token; none when this client's certificate is trusted there (mutual TLS) */
  token?: string;
  /** the agent's certificate, pinned when the remote was added (https only) */
  pin?: CertificatePin;
}

export type Remotes = Record<string, Remote>;

export function configDir(): string {
  return process.env.CORRAL_CONFIG_DIR || join(process.env.XDG_CONFIG_HOME || join(homedir(), ".config"), "corral");
}

export function remotesPath(): string {
  return join(configDir(), "remotes.json");
}

/** This client's certificate and key, presented to agents over TLS (mutual TLS), once made. */
export function clientCertificatePaths(): { cert: string; key: string } {
  return { cert: join(configDir(), "client.crt"), key: join(configDir(), "client.key") };
}

export function readRemotes(): Remotes {
  let text: string;
  try {
    text = readFileSync(remotesPath(), "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw new Error(`cannot read the remotes (${remotesPath()}): ${(e as Error).message}`, { cause: e });
  }
  let parsed: { remotes?: Remotes };
  try {
    parsed = JSON.parse(text) as { remotes?: Remotes };
  } catch (e) {
    throw new Error(`${remotesPath()} is not JSON (${(e as Error).message}): fix or remove it`, { cause: e });
  }
  return parsed.remotes ?? {};
}

/** Written beside and renamed in; the directory 0700 and the file 0600. */
export function writeRemotes(remotes: Remotes): void {
  mkdirSync(configDir(), { recursive: true, mode: 0o700 });
  const path = remotesPath();
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ remotes }, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}
