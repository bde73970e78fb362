// The CLI's calls to the agent: tRPC's HTTP wire format (a query is GET /trpc/PATH?input=JSON, a
// mutation POST /trpc/PATH with a JSON body; the answer is {result: {data}} or {error}) spoken
// over node:http. Why not @trpc/client's httpLink: it goes through Node's fetch, and loading
// fetch (undici) and the client cost a short command like `corral ls` about 30 ms of its ~100.
// The object is typed as tRPC's own client for AppRouter, so a call is checked like one.
import { request as httpRequest, type IncomingMessage, type RequestOptions } from "node:http";
import type { TRPCClient } from "@trpc/client";
import { API_VERSION, API_VERSION_HEADER, type AgentPlace } from "@corral/core";
import type { AppRouter } from "../api/root.ts";

export type AgentClient = TRPCClient<AppRouter>;

/** A refusal or failure as the agent answered it: its message, tRPC code and HTTP status. */
export class AgentError extends Error {
  constructor(message: string, readonly code: string, readonly httpStatus: number) {
    super(message);
    this.name = "AgentError";
  }
}

type Send = (url: URL, options: RequestOptions, respond: (res: IncomingMessage) => void) => ReturnType<typeof httpRequest>;

/** How to reach the agent beyond its URL: the TLS options that pin its certificate (and present ours), and how to name it in errors. */
export interface CallOptions {
  tls?: object;
  place?: AgentPlace;
}

/** The place of an agent known only by its URL. */
export function placeOf(url: string, name?: string): AgentPlace {
  return name === undefined
    ? { url, repin: `pin it with corral remote add NAME ${url}`, retoken: "set CORRAL_TOKEN, or add the agent as a remote with --token" }
    : { url, name, repin: `pin it again with corral remote remove ${name} and corral remote add ${name} ${url}`, retoken: `give it with corral remote remove ${name} and corral remote add ${name} ${url} --token TOKEN` };
}

/** One call: resolves with `result.data`, rejects with an AgentError (a refusal, or words for why the agent could not be used). */
export async function callAgent(base: string, headers: Record<string, string>, kind: "query" | "mutation", path: string, input: unknown, options: CallOptions = {}): Promise<unknown> {
  const url = new URL(`${base}/trpc/${path}`);
  const place = options.place ?? placeOf(base);
  const body = kind === "mutation" ? JSON.stringify(input ?? null) : undefined;
  if (kind === "query" && input !== undefined) url.searchParams.set("input", JSON.stringify(input));
  // https only where asked: loading TLS costs every other call
  const send: Send = url.protocol === "https:" ? (await import("node:https")).request : httpRequest;
  const res = await new Promise<{ status: number; text: string; api: string | undefined; needsHttps: boolean }>((resolve, reject) => {
    const req = send(url, {
      method: kind === "query" ? "GET" : "POST",
      headers: { ...headers, ...(body === undefined ? {} : { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) }) },
      ...(url.protocol === "https:" ? options.tls : {}),
    }, (r) => {
      const chunks: Buffer[] = [];
      r.on("data", (c: Buffer) => chunks.push(c));
      r.on("end", () => resolve({ status: r.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8"), api: r.headers[API_VERSION_HEADER] as string | undefined, needsHttps: r.headers["x-corral-needs-https"] !== undefined }));
      r.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  }).catch(async (e: unknown) => {
    const problem = (await import("./problems.ts")).agentProblem(e, place);
    throw problem ? new AgentError(problem.message, problem.kind, 0) : e;
  });
  // an agent of another version: said before anything it answered is read as this version's
  const otherVersion = res.api === undefined ? res.status === 404 : res.api !== String(API_VERSION);
  if (res.needsHttps || otherVersion || res.status === 401) {
    const words = await import("./problems.ts");
    if (res.needsHttps) throw new AgentError(words.agentProblem({ code: "CORRAL_NEEDS_HTTPS" }, place)!.message, "needs-https", res.status);
    const mismatch = otherVersion ? words.versionMismatch(res.api, place) : undefined;
    if (mismatch) throw new AgentError(mismatch.message, mismatch.kind, res.status);
    throw new AgentError(words.tokenRefused(place).message, "token", 401);
  }
  return decodeAnswer(res.status, res.text);
}

interface Answer {
  result?: { data?: unknown };
  error?: { message?: string; code?: unknown; data?: { code?: string; httpStatus?: number } };
}

/** The data of a tRPC answer, or its error as an AgentError. Pure. */
export function decodeAnswer(status: number, text: string): unknown {
  let answer: Answer;
  try {
    answer = JSON.parse(text) as Answer;
  } catch (e) {
    if (!(e instanceof SyntaxError)) throw e;
    throw new AgentError(`the agent answered HTTP ${status} with no JSON: ${text.slice(0, 200)}`, "BAD_RESPONSE", status);
  }
  if (answer.error) {
    const e = answer.error;
    throw new AgentError(e.message ?? `HTTP ${status}`, e.data?.code ?? (typeof e.code === "string" || typeof e.code === "number" ? String(e.code) : String(status)), e.data?.httpStatus ?? status);
  }
  if (status >= 300 || !answer.result) throw new AgentError(`the agent answered HTTP ${status} without a result`, "BAD_RESPONSE", status);
  return answer.result.data;
}

/** `client.containers.get.query({name})` and the like, each one HTTP request. */
export function httpClient(base: string, headers: Record<string, string>, options: CallOptions = {}): AgentClient {
  const at = (path: string[]): unknown => new Proxy(() => undefined, {
    // not a thenable: `await` on a part of the client is not a call
    get: (_, key) => (typeof key === "string" && key !== "then" ? at([...path, key]) : undefined),
    apply: (_, __, args: unknown[]) => {
      const verb = path.at(-1);
      if (verb !== "query" && verb !== "mutate") throw new TypeError(`${path.join(".")}: only query and mutate go over HTTP`);
      return callAgent(base, headers, verb === "query" ? "query" : "mutation", path.slice(0, -1).join("."), args[0], options);
    },
  });
  return at([]) as AgentClient;
}
