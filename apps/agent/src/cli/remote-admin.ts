// `corral remote add|list|remove`, as `incus remote` does: add connects first, shows the agent's
// certificate fingerprint and pins the certificate once the operator accepts it (on a terminal,
// or with --accept-certificate), then checks the token (or this client's certificate) with a call
// before anything is saved. Bundled apart from the quick commands (bin/bundle.mjs).
import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { chmodSync, existsSync, mkdirSync } from "node:fs";
import { hostname } from "node:os";
import { createInterface } from "node:readline/promises";
import { connect as tlsConnect, type PeerCertificate } from "node:tls";
import { agentProblem, isValidName, normalizeFingerprint, versionMismatch, type CertificatePin } from "@corral/core";
import { UsageError } from "./args.ts";
import { callAgent, placeOf } from "./agent-http.ts";
import { agentHeaders, callOptionsOf, type AgentTarget } from "./client.ts";
import { clientCertificatePaths, configDir, readRemotes, remotesPath, writeRemotes, type Remote } from "./remotes.ts";

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** The certificate an https agent presents, fetched without trusting it (only to show and pin). */
export function fetchCertificate(url: URL, timeoutMs = 10_000): Promise<CertificatePin> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: url.hostname.replace(/^\[|\]$/g, ""), port: Number(url.port || 443), rejectUnauthorized: false, timeout: timeoutMs }, () => {
      const peer: Partial<PeerCertificate> = socket.getPeerCertificate(false);
      socket.end();
      if (!peer.raw || !peer.fingerprint256) {
        reject(new Error(`${url.origin} presented no certificate`));
        return;
      }
      const pem = new X509Certificate(peer.raw).toString();
      resolve({ fingerprint: normalizeFingerprint(peer.fingerprint256)!, certificate: pem });
    });
    socket.on("timeout", () => socket.destroy(Object.assign(new Error("timed out"), { code: "ETIMEDOUT" })));
    socket.on("error", reject);
  });
}

/** This client's certificate for mutual TLS, made with openssl the first time (as incus makes client.crt). */
export function ensureClientCertificate(): string {
  const { cert, key } = clientCertificatePaths();
  if (existsSync(cert) && existsSync(key)) return cert;
  mkdirSync(configDir(), { recursive: true, mode: 0o700 });
  execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert, "-days", "3650",
    "-subj", `/O=corral/CN=${`${process.env.SUDO_USER ?? process.env.USER ?? "root"}@${hostname()}`.replace(/[^\w.@-]/g, "-")}`], { stdio: ["ignore", "ignore", "pipe"] });
  chmodSync(key, 0o600);
  return cert;
}

async function askYes(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

export interface AddOptions {
  token?: string;
  acceptCertificate: boolean;
}

/** corral remote add NAME URL [--token T] [--accept-certificate] */
export async function addRemote(name: string, urlText: string, opts: AddOptions): Promise<number> {
  if (!isValidName(name)) throw new UsageError(`a remote's name is a letter or digit, then letters, digits, _ . or -: "${name}" is not`);
  if (!URL.canParse(urlText) || !/^https?:$/.test(new URL(urlText).protocol)) throw new UsageError(`remote add wants an http:// or https:// URL, got "${urlText}"`);
  const url = new URL(urlText);
  const base = url.origin;
  const remotes = readRemotes();
  if (remotes[name]) throw new Error(`there is already a remote named "${name}" (${remotes[name].url}): remove it first with corral remote remove ${name}`);
  const remote: Remote = { url: base, ...(opts.token ? { token: opts.token } : {}) };
  if (url.protocol === "https:") {
    const pin = await fetchCertificate(url).catch((e: unknown) => {
      throw new Error(agentProblem(e, placeOf(base, name))?.message ?? `cannot reach ${base}: ${(e as Error).message}`, { cause: e });
    });
    process.stderr.write(`Certificate fingerprint: ${pin.fingerprint}\n`);
    if (!opts.acceptCertificate) {
      if (!process.stdin.isTTY) throw new Error(`not accepted: compare this fingerprint with \`corral agent --fingerprint\` on the agent's host, then add the remote again with --accept-certificate`);
      if (!(await askYes("ok (y/n)? "))) throw new Error("not accepted: nothing was saved");
    }
    remote.pin = pin;
  } else {
    process.stderr.write(`warning: ${base} is plain HTTP: the token travels in clear text (agents answer plain HTTP on loopback only, unless started with --insecure-plain-http)\n`);
  }
  if (!remote.token && url.protocol === "https:") ensureClientCertificate();
  const target: AgentTarget = { url: base, token: remote.token, remote: name, pin: remote.pin };
  let info: { version: string; hostname: string; api?: number };
  try {
    // the remote does not exist yet: a refused token is the one given here
    const place = { ...placeOf(base, name), retoken: "give it with --token (nothing was saved)" };
    info = await callAgent(base, agentHeaders(target), "query", "agent.info", undefined, { ...callOptionsOf(target), place }) as typeof info;
  } catch (e) {
    if (!remote.token && (e as { code?: string }).code === "token") {
      throw new Error(`agent "${name}" does not trust this client yet: copy ${clientCertificatePaths().cert} to the agent's host and run corral agent trust add FILE there, then add the remote again (or give --token)`, { cause: e });
    }
    throw e;
  }
  const mismatch = versionMismatch(info.api, placeOf(base, name));
  if (mismatch) throw new Error(mismatch.message);
  writeRemotes({ ...readRemotes(), [name]: remote });
  out(`remote ${name} added: ${base}, agent ${info.hostname} (corral ${info.version})${remote.pin ? `, certificate ${remote.pin.fingerprint} pinned` : ""}`);
  return 0;
}

/** corral remote list */
export function listRemotes(format: "table" | "json" | "names"): number {
  const remotes = readRemotes();
  // one name a line, for the shell's completion of --agent
  if (format === "names") {
    for (const name of Object.keys(remotes)) out(name);
    return 0;
  }
  if (format === "json") {
    out(JSON.stringify(Object.entries(remotes).map(([name, r]) => ({ name, url: r.url, fingerprint: r.pin?.fingerprint ?? null, auth: r.token ? "token" : "certificate" })), null, 2));
    return 0;
  }
  const rows = [["NAME", "URL", "FINGERPRINT", "AUTH"], ...Object.entries(remotes).map(([name, r]) => [name, r.url, r.pin ? r.pin.fingerprint.slice(0, 16) : "- (plain HTTP)", r.token ? "token" : "client certificate"])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) out(r.map((cell, i) => cell.padEnd(widths[i]!)).join("  ").trimEnd());
  if (Object.keys(remotes).length === 0) process.stderr.write(`(no remotes in ${remotesPath()})\n`);
  return 0;
}

/** corral remote remove NAME */
export function removeRemote(name: string): number {
  const remotes = readRemotes();
  if (!remotes[name]) throw new Error(`no remote named "${name}" (corral remote list shows them)`);
  writeRemotes(Object.fromEntries(Object.entries(remotes).filter(([n]) => n !== name)));
  out(`remote ${name} removed`);
  return 0;
}
