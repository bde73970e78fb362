// IP addresses as bytes, for rtnetlink and for checking config values. Pure.

/** Text that is not an address of the family asked for. */
export class AddressError extends Error {
  constructor(text: string, family: "IPv4" | "IPv6") {
    super(`"${text}" is not an ${family} address`);
    this.name = "AddressError";
  }
}

export function parseIPv4(text: string): Buffer {
  const parts = text.split(".");
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) throw new AddressError(text, "IPv4");
  return Buffer.from(parts.map(Number));
}

/** RFC 4291 text forms: eight groups, one "::" for a run of zeros, a dotted IPv4 tail. */
export function parseIPv6(text: string): Buffer {
  const bad = () => new AddressError(text, "IPv6");
  const halves = text.split("::");
  if (halves.length > 2) throw bad();
  const groups = (half: string) => (half === "" ? [] : half.split(":"));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  // a dotted IPv4 tail ends the address: it is the last group of the last half
  const end = halves.length === 2 ? tail : head;
  const v4 = end.at(-1)?.includes(".") ? parseIPv4(end.pop()!) : undefined;
  const all = [...head, ...tail];
  if (all.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) throw bad();
  const count = all.length + (v4 ? 2 : 0);
  if (halves.length === 1 ? count !== 8 : count > 7) throw bad();
  const hex = (gs: string[]) => gs.map((g) => parseInt(g, 16));
  const words = halves.length === 2 ? [...hex(head), ...new Array<number>(8 - count).fill(0), ...hex(tail)] : hex(head);
  const buf = Buffer.alloc(16);
  words.forEach((w, i) => buf.writeUInt16BE(w, 2 * i));
  if (v4) v4.copy(buf, 12);
  return buf;
}

export function isIPv4(text: string): boolean {
  return tryParse(parseIPv4, text);
}

export function isIPv6(text: string): boolean {
  return tryParse(parseIPv6, text);
}

function tryParse(parse: (t: string) => Buffer, text: string): boolean {
  try {
    parse(text);
    return true;
  } catch (e) {
    if (e instanceof AddressError) return false;
    throw e;
  }
}
