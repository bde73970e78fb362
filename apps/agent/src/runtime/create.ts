// Creating and deleting containers in the lxcpath: a template's config and rootfs, or a config
// given as LXC text. Every check runs before anything is written, so a refusal changes nothing.
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, validateName } from "@corral/core";
import { describeIssue, type LxcPath } from "./lxcpath.ts";
import { Refusal } from "./runtime.ts";
import { applyTemplate, configText, isTemplate, TEMPLATES } from "./templates.ts";

export interface CreateRequest {
  name: string;
  template?: string;
  /** LXC config text; with a template, its keys are added after the template's */
  config?: string;
}

export interface CreateResult {
  name: string;
  configPath: string;
  warnings: string[];
}

export function createContainer(lxcpath: LxcPath, req: CreateRequest): CreateResult {
  const problem = validateName(req.name);
  if (problem) throw new Refusal(problem, "BAD_REQUEST");
  if (req.template !== undefined && !isTemplate(req.template)) {
    throw new Refusal(`unknown template "${req.template}" (known: ${TEMPLATES.join(", ")})`, "BAD_REQUEST");
  }
  if (req.template === undefined && req.config === undefined) {
    throw new Refusal("give a template or a config", "BAD_REQUEST");
  }
  if (existsSync(join(lxcpath.root, req.name))) throw new Refusal(`a container named "${req.name}" already exists`);
  const userConfig = req.config ?? "";
  const warnings = checkConfigText(lxcpath, req.name, userConfig);

  lxcpath.ensure();
  const dir = join(lxcpath.root, req.name);
  mkdirSync(dir, { mode: 0o750 });
  try {
    let text = userConfig;
    if (req.template) {
      const config = applyTemplate(req.template, req.name, join(dir, "rootfs"));
      text = configText(config, req.template) + (userConfig ? `\n# Given at create:\n${userConfig}\n` : "");
    }
    lxcpath.writeConfig(req.name, text);
    // The whole file must parse: the template's keys with the user's.
    lxcpath.load(req.name);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e instanceof ConfigError ? new Refusal(e.message, "BAD_REQUEST") : e;
  }
  return { name: req.name, configPath: lxcpath.configPath(req.name), warnings };
}

/** Parse config text as it would be read from the container's directory; refusals name the line. */
export function checkConfigText(lxcpath: LxcPath, name: string, text: string): string[] {
  try {
    const parsed = lxcpath.parseAs(name, text);
    return [...parsed.warnings, ...parsed.unsupported].map(describeIssue);
  } catch (e) {
    if (e instanceof ConfigError) throw new Refusal(e.message, "BAD_REQUEST");
    throw e;
  }
}

export function deleteContainer(lxcpath: LxcPath, name: string, state: string): void {
  const problem = validateName(name);
  if (problem) throw new Refusal(problem, "BAD_REQUEST");
  if (!lxcpath.exists(name)) throw new Refusal(`no container named "${name}"`, "NOT_FOUND");
  if (state !== "STOPPED") throw new Refusal(`${name} is ${state}: stop it before deleting it`);
  lxcpath.remove(name);
}
