// PATCH /api/registry/:agent {name}: rename an agent; DELETE /api/registry/:agent: remove it from
// the registry (its containers keep running: only this dashboard stops showing them).
import { currentSession, unauthorized } from "@/server/auth";
import { refusalResponse, removeAgent, renameAgent } from "@/server/agent-admin";
import { RegistryRefusal } from "@/server/registry";
import { readJsonBody } from "@/server/json-body";

export const dynamic = "force-dynamic";

type Params = { params: Promise<{ agent: string }> };

function refusing(change: () => void): Response {
  try {
    change();
    return Response.json({ ok: true });
  } catch (e) {
    if (e instanceof RegistryRefusal) return refusalResponse(e);
    throw e;
  }
}

export async function PATCH(req: Request, ctx: Params): Promise<Response> {
  if (!(await currentSession())) return unauthorized();
  const { agent } = await ctx.params;
  const body = await readJsonBody<{ name?: unknown }>(req);
  if (body instanceof Response) return body;
  return refusing(() => renameAgent(agent, body.name));
}

export async function DELETE(_req: Request, ctx: Params): Promise<Response> {
  if (!(await currentSession())) return unauthorized();
  const { agent } = await ctx.params;
  return refusing(() => removeAgent(agent));
}
