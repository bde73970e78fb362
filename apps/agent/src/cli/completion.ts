// `corral completion bash`: the bash completion script, made from the command table so that it
// never lists a verb or option the parser would refuse. Container names come from the agent
// (`corral ls --names`, the client's fast path, given the line's --agent and --lxcpath), bounded
// by `timeout` so that an agent that does not answer never holds the shell up. Pure.
import { COMMANDS, GLOBAL_VALUES, type CommandSpec } from "./commands.ts";

const quote = (words: readonly string[]) => words.join(" ");

function optionsOf(spec: CommandSpec): string[] {
  return [...(spec.booleans ?? []), ...(spec.values ?? []), ...GLOBAL_VALUES].map((o) => `--${o}`);
}

/** How the value of each option that takes one is completed: a word list, files, or names. */
function valueCase(): string {
  const lines: string[] = [];
  for (const [verb, spec] of Object.entries(COMMANDS)) {
    for (const option of spec.values ?? []) {
      const choice = spec.choices?.[option];
      const action = choice === "file" ? "_corral_files"
        : choice === undefined ? "return 0"
        : choice.length === 0 ? "_corral_names"
        : `_corral_words "${quote(choice)}"`;
      lines.push(`    ${verb}:--${option}) ${action} ;;`);
    }
  }
  lines.push("    *:--lxcpath) _corral_dirs ;;", "    *:--agent) _corral_remotes ;;");
  return lines.join("\n");
}

export function bashCompletion(): string {
  const verbs = Object.keys(COMMANDS);
  const options = verbs.map((v) => `    ${v}) echo "${quote(optionsOf(COMMANDS[v]!))}" ;;`).join("\n");
  const valued = verbs.flatMap((v) => (COMMANDS[v]!.values ?? []).map((o) => `${v}:--${o}`));
  const wantsName = verbs.filter((v) => COMMANDS[v]!.positional === "container");
  return `# bash completion for corral; made by \`corral completion bash\`, from its command table.
_corral_words() { mapfile -t COMPREPLY < <(compgen -W "$1" -- "$cur"); }
_corral_files() { mapfile -t COMPREPLY < <(compgen -f -- "$cur"); compopt -o filenames 2>/dev/null; }
_corral_dirs() { mapfile -t COMPREPLY < <(compgen -d -- "$cur"); compopt -o filenames 2>/dev/null; }
# The agent's containers, as the line would reach it (its --agent and --lxcpath).
_corral_names() {
  local names
  names=$(timeout 2 "\${COMP_WORDS[0]}" ls --names "\${target[@]}" 2>/dev/null) || return 0
  _corral_words "$names"
}
# The remotes' names, for --agent (a URL is typed whole).
_corral_remotes() {
  local names
  names=$(timeout 2 "\${COMP_WORDS[0]}" remote list --names 2>/dev/null) || return 0
  _corral_words "$names"
}
_corral_options() {
  case $1 in
${options}
  esac
}
_corral() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]}
  local verb=\${COMP_WORDS[1]} i word positionals=0 skip=0
  local -a target=()
  COMPREPLY=()
  if [ "$COMP_CWORD" -eq 1 ]; then _corral_words "${quote(verbs)} help"; return 0; fi
  # what the words before this one are: options, their values, positionals, or "--" and a command
  for ((i = 2; i < COMP_CWORD; i++)); do
    word=\${COMP_WORDS[i]}
    if [ "$skip" = 1 ]; then skip=0; continue; fi
    case $word in
      --) return 0 ;;
      --agent|--lxcpath) target+=("$word" "\${COMP_WORDS[i+1]}"); skip=1 ;;
      --*=*) ;;
      --*) case " ${quote(valued)} " in *" $verb:$word "*) skip=1 ;; esac ;;
      *) positionals=$((positionals + 1)) ;;
    esac
  done
  case "$verb:$prev" in
${valueCase()}
  esac
  case " ${quote(valued)} *:--lxcpath *:--agent " in
    *" $verb:$prev "*|*" *:$prev "*) return 0 ;;
  esac
  if [[ $cur == -* ]]; then _corral_words "$(_corral_options "$verb")"; return 0; fi
  case " ${quote(wantsName)} " in
    *" $verb "*) [ "$positionals" -eq 0 ] && _corral_names ;;
    *) case "$verb:$positionals" in
         completion:0) _corral_words bash ;;
         remote:0) _corral_words "add list remove" ;;
         remote:1) [ "$prev" = remove ] && _corral_remotes ;;
         agent:0) _corral_words trust ;;
         agent:1) [ "$prev" = trust ] && _corral_words "add list remove" ;;
         agent:2) [ "$prev" = add ] && _corral_files ;;
       esac ;;
  esac
  return 0
}
complete -F _corral corral
`;
}
