// `corral create` without an agent: the container written into the lxcpath by this process.
// Loaded only by that command (main.ts), since it brings the templates and the config parser.
import { createContainer, createContainerAsync, type CreateRequest } from "../containers/create.ts";
import { LxcPath } from "../containers/lxcpath.ts";

export async function createLocal(lxcpathRoot: string, req: CreateRequest): Promise<number> {
  const lxcpath = new LxcPath(lxcpathRoot);
  const result = req.template === "debian"
    ? await createContainerAsync(lxcpath, req, (line) => process.stdout.write(`${line}\n`))
    : createContainer(lxcpath, req);
  for (const w of result.warnings) process.stderr.write(`warning: ${w}\n`);
  if (req.template !== "debian") process.stdout.write(`created ${result.name} (${result.configPath})\n`);
  return 0;
}
