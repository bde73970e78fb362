// A request's JSON body, or the 415/400 answer for one that is not JSON. A JSON content type cannot
// be sent cross-site without a CORS preflight, which nothing here answers. Server only.
import { expected } from "../lib/errors.ts";

export async function readJsonBody<T extends object>(req: Request): Promise<T | Response> {
  const type = req.headers.get("content-type")?.split(";")[0]?.trim().toLowerCase();
  if (type !== "application/json") {
    return Response.json({ error: { message: "The request body must be JSON (content-type: application/json).", code: "UNSUPPORTED_MEDIA_TYPE" } }, { status: 415 });
  }
  try {
    const body = (await req.json()) as unknown;
    if (body === null || typeof body !== "object" || Array.isArray(body)) throw new SyntaxError("not an object");
    return body as T;
  } catch (e) {
    expected(e, [SyntaxError, TypeError], "reading a request's body");
    return Response.json({ error: { message: "The request body must be a JSON object.", code: "BAD_REQUEST" } }, { status: 400 });
  }
}
