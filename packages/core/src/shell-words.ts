// Splitting and quoting of a command line, for lxc.init.cmd. The quoting is the simple subset
// LXC itself understands: whitespace separates words, '...' is literal, "..." allows \" and \\,
// and a backslash outside quotes escapes the next character.

export function splitCommandLine(line: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const c = line.charAt(i);
    if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
      continue;
    }
    inWord = true;
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated ' quote in ${JSON.stringify(line)}`);
      word += line.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      const [text, end] = readDoubleQuoted(line, i + 1);
      word += text;
      i = end;
    } else if (c === "\\" && i + 1 < line.length) {
      word += line.charAt(++i);
    } else {
      word += c;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** Returns the unescaped text and the index of the closing quote. */
function readDoubleQuoted(line: string, start: number): [string, number] {
  let text = "";
  for (let i = start; i < line.length; i++) {
    const c = line.charAt(i);
    if (c === '"') return [text, i];
    if (c === "\\" && (line[i + 1] === '"' || line[i + 1] === "\\")) text += line.charAt(++i);
    else text += c;
  }
  throw new Error(`unterminated " quote in ${JSON.stringify(line)}`);
}

const PLAIN_WORD = /^[A-Za-z0-9_\/.,:=+@%^-]+$/;

/** Inverse of splitCommandLine: splitCommandLine(quoteCommandLine(a)) deep-equals a. */
export function quoteCommandLine(args: readonly string[]): string {
  return args.map((a) => (PLAIN_WORD.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`)).join(" ");
}
