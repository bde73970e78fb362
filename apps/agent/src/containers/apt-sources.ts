// Which Debian mirror to build from: the one this machine's apt uses, read from
// /etc/apt/sources.list (one-line format) and /etc/apt/sources.list.d/*.list and *.sources
// (deb822), never a host written into corral. Parsing and choosing are pure; only
// readHostAptSources touches the disk (small files root owns, read once per base build).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { expected } from "../errors.ts";

export interface AptSource {
  types: string[];
  uris: string[];
  suites: string[];
  components: string[];
  /** a keyring path (Signed-By / signed-by=); an inline key is not kept */
  signedBy?: string;
  /** where it was read, for messages */
  origin: string;
}

/** deb822 stanzas (sources.list(5), "DEB822-STYLE FORMAT"); `Enabled: no` ones are left out. */
export function parseDeb822Sources(text: string, origin = "deb822"): AptSource[] {
  const out: AptSource[] = [];
  for (const stanza of text.split(/\n[ \t]*\n/)) {
    const fields = new Map<string, string>();
    let last: string | undefined;
    for (const raw of stanza.split("\n")) {
      if (raw.startsWith("#")) continue;
      if (/^[ \t]/.test(raw)) {
        // a continuation line (an inline key's body, or a list spread over lines)
        if (last !== undefined) fields.set(last, `${fields.get(last)}\n${raw.trim()}`);
        continue;
      }
      const m = /^([A-Za-z0-9-]+):(.*)$/.exec(raw);
      if (!m) continue;
      last = m[1]!.toLowerCase();
      fields.set(last, m[2]!.trim());
    }
    if (!fields.has("uris") || !fields.has("suites")) continue;
    if (/^(no|false|0)$/i.test(fields.get("enabled") ?? "yes")) continue;
    const words = (key: string) => (fields.get(key) ?? "").split(/\s+/).filter(Boolean);
    const signedBy = fields.get("signed-by");
    out.push({
      types: words("types"),
      uris: words("uris"),
      suites: words("suites"),
      components: words("components"),
      signedBy: signedBy?.startsWith("/") && !signedBy.includes("\n") ? signedBy : undefined,
      origin,
    });
  }
  return out;
}

/** One-line entries: `deb [opt=value ...] URI SUITE [COMPONENT...]`. */
export function parseOneLineSources(text: string, origin = "sources.list"): AptSource[] {
  const out: AptSource[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.replace(/#.*$/, "").trim();
    const m = /^(deb|deb-src)\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)(.*)$/.exec(line);
    if (!m) continue;
    const options = new Map((m[2] ?? "").split(/\s+/).filter(Boolean).map((o) => o.split("=", 2) as [string, string]));
    const signedBy = options.get("signed-by");
    out.push({
      types: [m[1]!],
      uris: [m[3]!],
      suites: [m[4]!],
      components: m[5]!.trim().split(/\s+/).filter(Boolean),
      signedBy: signedBy?.startsWith("/") ? signedBy : undefined,
      origin,
    });
  }
  return out;
}

/** Every source apt reads on this machine, in apt's order (sources.list, then the directory sorted). */
export function readHostAptSources(etcApt = "/etc/apt"): AptSource[] {
  const out: AptSource[] = [];
  const read = (path: string) => {
    try {
      return readFileSync(path, "utf8");
    } catch (e) {
      expected(e, ["ENOENT"], `reading ${path}`);
      return undefined;
    }
  };
  const main = read(join(etcApt, "sources.list"));
  if (main !== undefined) out.push(...parseOneLineSources(main, join(etcApt, "sources.list")));
  let names: string[] = [];
  try {
    names = readdirSync(join(etcApt, "sources.list.d")).sort();
  } catch (e) {
    expected(e, ["ENOENT"], `listing ${etcApt}/sources.list.d`); // no directory: only sources.list
  }
  for (const name of names) {
    const path = join(etcApt, "sources.list.d", name);
    // apt reads only these two suffixes ("x.sources.disabled" is not read)
    if (name.endsWith(".list")) out.push(...parseOneLineSources(read(path) ?? "", path));
    else if (name.endsWith(".sources")) out.push(...parseDeb822Sources(read(path) ?? "", path));
  }
  return out;
}

/** Releases with no -updates and no -security suite. */
const ROLLING = new Set(["sid", "unstable", "experimental", "rc-buggy"]);

const isDebianArchive = (s: AptSource) =>
  (s.signedBy?.includes("debian-archive-keyring") ?? false) || s.uris.some((u) => /\/debian\/?$/.test(u));

const trimSlash = (uri: string) => uri.replace(/\/+$/, "");

/**
 * The apt lines to build `release` from and to leave in the container's sources.list: the
 * machine's Debian archive (the entry that carries `release`, else the first Debian entry with a
 * plain suite), its -updates suite when the machine uses one, and the security archive's
 * -security suite when the machine has one. Throws when the machine has no Debian mirror.
 */
export function debianSourceLines(sources: readonly AptSource[], release: string): string[] {
  const debs = sources.filter((s) => s.types.includes("deb") && s.uris.length > 0);
  const plain = (s: AptSource) => s.suites.some((x) => !x.includes("-") && !x.includes("/"));
  const archive = debs.find((s) => s.suites.includes(release)) ?? debs.find((s) => isDebianArchive(s) && plain(s));
  if (!archive) {
    throw new Error(`no Debian mirror found in this machine's apt sources (/etc/apt/sources.list, /etc/apt/sources.list.d/*.list, *.sources) to build "${release}" from`);
  }
  const uri = trimSlash(archive.uris[0]!);
  const components = archive.components.length ? archive.components.join(" ") : "main";
  const line = (s: AptSource, u: string, suite: string) => `deb ${s.signedBy ? `[signed-by=${s.signedBy}] ` : ""}${u} ${suite} ${components}`;
  const lines = [line(archive, uri, release)];
  if (ROLLING.has(release)) return lines;
  const sameArchive = debs.filter((s) => s.uris.some((u) => trimSlash(u) === uri));
  if (sameArchive.some((s) => s.suites.some((x) => x.endsWith("-updates")))) lines.push(line(archive, uri, `${release}-updates`));
  const security = debs.find((s) => s.suites.some((x) => x.endsWith("-security")));
  if (security) lines.push(line(security, trimSlash(security.uris[0]!), `${release}-security`));
  return lines;
}
