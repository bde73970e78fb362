// The browser's only way to an agent: the dashboard's own relay route.
import type { InputOf, OutputOf, RelayedPath } from "@/lib/procedures";
import { expected } from "@/lib/errors";

export class CallError extends Error {
  constructor(message: string, readonly code: string, readonly status: number) {
    super(message);
  }
}

export async function call<P extends RelayedPath>(agent: string, path: P, input?: InputOf<P>): Promise<OutputOf<P>> {
  let res: Response;
  try {
    res = await fetch(`/api/agents/${encodeURIComponent(agent)}/call`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ path, input }),
    });
  } catch (e) {
    expected(e, [TypeError], "calling the dashboard's server"); // fetch's word for "unreachable"
    throw new CallError("The dashboard's server cannot be reached.", "DASHBOARD_UNREACHABLE", 0);
  }
  if (res.status === 401) {
    window.location.href = "/login";
    throw new CallError("Your session has ended: sign in again.", "UNAUTHORIZED", 401);
  }
  const body = (await res.json().catch(() => null)) as { data?: unknown; error?: { message: string; code: string } } | null;
  if (!res.ok || !body || body.error) {
    throw new CallError(body?.error?.message ?? `The dashboard's server answered ${res.status}.`, body?.error?.code ?? "ERROR", res.status);
  }
  return body.data as OutputOf<P>;
}
