// POST /api/registry {name, url, token, fingerprint?}: add an agent to the registry (agent-admin.ts).
// An https agent answers first {confirm: {fingerprint}}: the Agents dialog shows it, and the same
// POST with that fingerprint pins it. Refusals are 4xx (502 when the agent could not be used) with
// the reason in words.
import { currentSession, unauthorized } from "@/server/auth";
import { addAgent, refusalResponse, type AddRequest } from "@/server/agent-admin";
import { RegistryRefusal } from "@/server/registry";
import { readJsonBody } from "@/server/json-body";

export const dynamic = "force-dynamic";

export async function POST(req: Request): Promise<Response> {
  if (!(await currentSession())) return unauthorized();
  const body = await readJsonBody<AddRequest>(req);
  if (body instanceof Response) return body;
  try {
    return Response.json(await addAgent(body));
  } catch (e) {
    if (e instanceof RegistryRefusal) return refusalResponse(e);
    throw e;
  }
}
