// How a client (the CLI, the dashboard's server) trusts an agent's self-signed certificate: by
// pinning it, as `incus remote add` does. The agent's certificate is kept whole (its PEM) and
// handed to TLS as the only trusted root, so a certificate other than the pinned one fails inside
// the handshake, before a byte of the request (and its token) is sent; the fingerprint is then
// compared too, in place of the host name check, since an agent is reached by any of its
// addresses. And the words for an agent that cannot be used: unreachable, refused (TLS, token,
// fingerprint) or of another API version, each with what to do. Pure: core imports no package.

/** The version of the agent's API. The agent sends it with every answer (`x-corral-api`). */
export const API_VERSION = 1;
export const API_VERSION_HEADER = "x-corral-api";

/** What a client keeps of an agent's certificate. */
export interface CertificatePin {
  /** SHA-256 of the certificate's DER, 64 lowercase hex digits (as `incus remote add` shows it) */
  fingerprint: string;
  /** the certificate, PEM */
  certificate: string;
}

/** "AB:CD:..." (Node's fingerprint256), "abcd..." or "sha256:abcd...": the 64 hex digits, lowercase; undefined if it is none. */
export function normalizeFingerprint(text: string): string | undefined {
  const hex = text.trim().replace(/^sha256:/i, "").replace(/:/g, "").toLowerCase();
  return /^[0-9a-f]{64}$/.test(hex) ? hex : undefined;
}

/** The certificate's fingerprint as the peer certificate object of node:tls gives it. */
export function fingerprintOfPeer(cert: { fingerprint256?: string }): string | undefined {
  return cert.fingerprint256 === undefined ? undefined : normalizeFingerprint(cert.fingerprint256);
}

export class CertificateMismatchError extends Error {
  readonly code = "CORRAL_CERT_MISMATCH";
  constructor(readonly pinned: string, readonly presented: string | undefined) {
    super(`the agent's certificate (${presented ?? "none"}) is not the pinned one (${pinned})`);
    this.name = "CertificateMismatchError";
  }
}

/**
 * The options of node:tls (and so of https.request, ws and tls.connect) that accept this agent
 * and no other: its certificate as the one root, and its fingerprint checked in place of the name.
 */
export function pinnedTlsOptions(pin: CertificatePin): { ca: string; checkServerIdentity: (host: string, cert: { fingerprint256?: string }) => Error | undefined } {
  return {
    ca: pin.certificate,
    checkServerIdentity: (_host, cert) => {
      const presented = fingerprintOfPeer(cert);
      return presented === pin.fingerprint ? undefined : new CertificateMismatchError(pin.fingerprint, presented);
    },
  };
}
