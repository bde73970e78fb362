// The agent's TLS: its key and self-signed certificate, and the client certificates it trusts.
//
// Made on first start in the lxcpath (agent.key 0600, agent.crt), or given (--tls-cert and
// --tls-key). Node 20 cannot make an X.509 certificate itself (node:crypto makes keys and reads
// certificates, but signs none), so the agent runs the `openssl` binary once, which setup
// installs and every Debian has: no npm dependency (and its own ASN.1 code) for a file made once
// per host. Clients pin the certificate (packages/core tls-pin.ts), so its names do not matter:
// the subject is the host's name, the key EC P-256, valid ten years.
//
// Mutual TLS, as `incus config trust add`: <lxcpath>/trusted-clients.json lists the client
// certificates (their SHA-256 fingerprints, with a name) whose holder needs no token. Proof of
// the key is TLS's own (the client signs the handshake), so the fingerprint is all we keep.
import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { chmodSync, existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { normalizeFingerprint } from "@corral/core";
import { errorCode, expected, unexpected } from "../errors.ts";

export const CERT_FILE = "agent.crt";
export const KEY_FILE = "agent.key";
export const TRUST_FILE = "trusted-clients.json";

export interface TlsIdentity {
  cert: string;
  key: string;
  /** SHA-256 of the certificate, 64 lowercase hex digits */
  fingerprint: string;
  certPath: string;
}

/** The fingerprint of a PEM certificate; an Error naming `from` if it is not one. */
export function certificateFingerprint(pem: string, from: string): string {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch (e) {
    throw new Error(`${from} is not a PEM certificate (${(e as Error).message})`, { cause: e });
  }
  return normalizeFingerprint(cert.fingerprint256)!;
}

/** A key and a self-signed certificate, written beside and renamed in, so that a crash leaves none or both. */
function makeSelfSigned(certPath: string, keyPath: string): void {
  const tmpCert = `${certPath}.${process.pid}.tmp`;
  const tmpKey = `${keyPath}.${process.pid}.tmp`;
  try {
    execFileSync("openssl", [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
      "-keyout", tmpKey, "-out", tmpCert, "-days", "3650", "-subj", `/O=corral/CN=${hostname().replace(/[^\w.-]/g, "-")}`,
    ], { stdio: ["ignore", "ignore", "pipe"] });
    chmodSync(tmpKey, 0o600);
    renameSync(tmpKey, keyPath);
    renameSync(tmpCert, certPath);
  } catch (e) {
    rmSync(tmpCert, { force: true });
    rmSync(tmpKey, { force: true });
    const stderr = (e as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`could not make the agent's TLS certificate with openssl: ${errorCode(e) === "ENOENT" ? "openssl is not installed (apt-get install openssl)" : (stderr || (e as Error).message)}`, { cause: e });
  }
}

/** The certificate and key given (both or neither), else the lxcpath's, made on first use. */
export function loadOrCreateIdentity(lxcpath: string, given: { cert?: string; key?: string } = {}): TlsIdentity {
  if ((given.cert === undefined) !== (given.key === undefined)) throw new Error("--tls-cert and --tls-key go together");
  const certPath = given.cert ?? join(lxcpath, CERT_FILE);
  const keyPath = given.key ?? join(lxcpath, KEY_FILE);
  if (given.cert === undefined && !existsSync(certPath)) makeSelfSigned(certPath, keyPath);
  const cert = readFileSync(certPath, "utf8");
  const key = readFileSync(keyPath, "utf8");
  return { cert, key, fingerprint: certificateFingerprint(cert, certPath), certPath };
}

/** 127.0.0.0/8, ::1 and localhost: where the agent stays plain HTTP. */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || /^::ffff:127\./i.test(host);
}

export interface TrustedClient {
  name: string;
  fingerprint: string;
  addedAt: string;
}

/** The trusted client certificates of an lxcpath: read again whenever the file changes, so `corral agent trust add` needs no restart. */
export class TrustStore {
  private seen: { mtimeMs: number; size: number } | undefined;
  private byFingerprint = new Map<string, TrustedClient>();
  /** why the file as last seen does not parse, if it does not */
  private broken: string | undefined;

  constructor(readonly path: string) {}

  static of(lxcpath: string): TrustStore {
    return new TrustStore(join(lxcpath, TRUST_FILE));
  }

  list(): TrustedClient[] {
    this.refresh();
    return [...this.byFingerprint.values()];
  }

  /** The trusted client with this fingerprint, if there is one. */
  find(fingerprint: string | undefined): TrustedClient | undefined {
    if (fingerprint === undefined) return undefined;
    this.refresh();
    return this.byFingerprint.get(fingerprint);
  }

  add(pem: string, from: string, name?: string): TrustedClient {
    const fingerprint = certificateFingerprint(pem, from);
    this.refresh(true);
    const clients = this.list().filter((c) => c.fingerprint !== fingerprint);
    const entry = { name: name ?? new X509Certificate(pem).subject.replace(/\n/g, ",").slice(0, 100), fingerprint, addedAt: new Date().toISOString() };
    this.write([...clients, entry]);
    return entry;
  }

  /** Removes by name or fingerprint; false when none matched. */
  remove(nameOrFingerprint: string): boolean {
    const fp = normalizeFingerprint(nameOrFingerprint);
    this.refresh(true);
    const clients = this.list();
    const kept = clients.filter((c) => c.name !== nameOrFingerprint && c.fingerprint !== fp);
    if (kept.length === clients.length) return false;
    this.write(kept);
    return true;
  }

  private write(clients: TrustedClient[]): void {
    const tmp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(clients, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, this.path);
    this.seen = undefined;
  }

  /** Read again if the file changed. A file that does not parse trusts nobody (logged) for the agent; the commands that change it refuse it (`strict`). */
  private refresh(strict = false): void {
    let st: { mtimeMs: number; size: number };
    try {
      st = statSync(this.path);
    } catch (e) {
      expected(e, ["ENOENT"], "reading the trusted client certificates");
      this.byFingerprint.clear();
      this.seen = undefined;
      return;
    }
    if (!this.seen || this.seen.mtimeMs !== st.mtimeMs || this.seen.size !== st.size) this.load(st);
    if (strict && this.broken !== undefined) throw new Error(`${this.path} must be a JSON array of {name, fingerprint}: fix or remove it (${this.broken})`);
  }

  private load(st: { mtimeMs: number; size: number }): void {
    let parsed: unknown;
    this.broken = undefined;
    try {
      parsed = JSON.parse(readFileSync(this.path, "utf8"));
      if (!Array.isArray(parsed)) throw new Error("not a JSON array");
    } catch (e) {
      this.broken = (e as Error).message;
      unexpected(`reading ${this.path}: no client certificate is trusted until it is fixed`, e);
      parsed = [];
    }
    this.byFingerprint = new Map((parsed as unknown[]).flatMap((entry) => {
      if (typeof entry !== "object" || entry === null) return [];
      const c = entry as Record<string, unknown>;
      const fp = typeof c.fingerprint === "string" ? normalizeFingerprint(c.fingerprint) : undefined;
      const text = (v: unknown, fallback: string) => (typeof v === "string" ? v : fallback);
      return fp ? [[fp, { name: text(c.name, fp.slice(0, 12)), fingerprint: fp, addedAt: text(c.addedAt, "") }] as const] : [];
    }));
    this.seen = { mtimeMs: st.mtimeMs, size: st.size };
  }
}
