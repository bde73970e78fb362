// Container names become path components (<lxcpath>/<name>/config), cgroup names and socket
// names, so they are checked before anything else touches them.

export const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
export const NAME_MAX = 64;

/** null when the name is acceptable, otherwise a sentence saying why not. */
export function validateName(name: string): string | null {
  if (name.length === 0) return "container name is empty";
  if (name === "." || name === "..") return `container name "${name}" is reserved`;
  if (name.length > NAME_MAX) {
    return `container name is ${name.length} characters long; the limit is ${NAME_MAX}`;
  }
  if (name.includes("/")) return `container name ${JSON.stringify(name)} contains "/"`;
  if (!/^[A-Za-z0-9]/.test(name)) {
    return `container name ${JSON.stringify(name)} must start with a letter or a digit`;
  }
  if (!NAME_RE.test(name)) {
    return `container name ${JSON.stringify(name)} may contain only letters, digits, "_", "." and "-"`;
  }
  return null;
}

export function isValidName(name: string): boolean {
  return validateName(name) === null;
}
