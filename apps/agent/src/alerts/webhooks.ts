// Delivers each alert to the configured webhooks: a POST of JSON, signed with HMAC-SHA256 of the
// body under the hook's secret (`x-corral-signature: sha256=<hex>`), retried with exponential
// backoff up to a bounded number of tries. Deliveries run on their own (fetch and timers): the
// event loop and the agent's requests never wait for a receiver; what fails is logged.
import { createHmac, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { z } from "zod";
import type { Alert } from "@corral/core";
import { expected } from "../errors.ts";
import type { Logger } from "../log.ts";

export const SIGNATURE_HEADER = "x-corral-signature";

const hookSchema = z.object({ url: z.string().url().refine((u) => /^https?:\/\//.test(u), "an http or https URL"), secret: z.string().min(1) });
const hooksSchema = z.array(hookSchema);
export type Webhook = z.infer<typeof hookSchema>;

export interface RetryPolicy {
  /** tries in all, the first included */
  tries: number;
  /** the wait before the second try; each next wait doubles */
  firstDelayMs: number;
  /** how long one try may take */
  timeoutMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { tries: 5, firstDelayMs: 1000, timeoutMs: 10_000 };

/** Deliveries waiting or under way at most; past it a new one is dropped (and logged). */
export const MAX_PENDING_DELIVERIES = 1000;

export class WebhookConfigError extends Error {
  constructor(readonly source: string, problem: string) {
    super(`the webhooks in ${source} are not valid: ${problem}. Expected JSON: [{"url": "https://...", "secret": "..."}]`);
    this.name = "WebhookConfigError";
  }
}

/** The hooks in JSON text (CORRAL_WEBHOOKS, or the lxcpath's webhooks.json). */
export function parseWebhooks(text: string, source: string): Webhook[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new WebhookConfigError(source, e instanceof Error ? e.message : String(e));
  }
  const parsed = hooksSchema.safeParse(json);
  if (!parsed.success) throw new WebhookConfigError(source, parsed.error.issues.map((i) => `${i.path.join(".") || "(top)"}: ${i.message}`).join("; "));
  return parsed.data;
}

/** The hooks from CORRAL_WEBHOOKS if it is set, else from <lxcpath>/webhooks.json if there is one. */
export function loadWebhooks(envText: string | undefined, filePath: string): Webhook[] {
  if (envText !== undefined && envText.trim() !== "") return parseWebhooks(envText, "CORRAL_WEBHOOKS");
  let text: string;
  try {
    text = readFileSync(filePath, "utf8");
  } catch (e) {
    expected(e, ["ENOENT"], `reading ${filePath}`);
    return [];
  }
  return parseWebhooks(text, filePath);
}

/** `sha256=<hex>` of the body under the secret: what the receiver computes to check it. */
export function signBody(body: string, secret: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

/** Whether a signature header is the body's under the secret (constant-time). */
export function verifySignature(body: string, secret: string, header: string | undefined): boolean {
  if (header === undefined) return false;
  const want = Buffer.from(signBody(body, secret));
  const got = Buffer.from(header);
  return want.length === got.length && timingSafeEqual(want, got);
}

/** What a receiver gets: the alert, and which agent raised it. */
export interface AlertDelivery {
  type: "alert";
  agent: string;
  alert: Alert;
}

class DeliveryFailed extends Error {
  constructor(readonly status: number) {
    super(`the receiver answered ${status}`);
    this.name = "DeliveryFailed";
  }
}

export class Webhooks {
  private pending = 0;
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(
    readonly hooks: readonly Webhook[],
    private readonly agent: string,
    private readonly log: Logger,
    private readonly retry: RetryPolicy = DEFAULT_RETRY,
  ) {}

  /** Queues the alert for every hook and returns at once. */
  deliver(alert: Alert): void {
    const body = JSON.stringify({ type: "alert", agent: this.agent, alert } satisfies AlertDelivery);
    for (const hook of this.hooks) {
      if (this.closed) return;
      if (this.pending >= MAX_PENDING_DELIVERIES) {
        this.log.error("webhook delivery dropped: too many deliveries pending", { url: hook.url, alert: alert.id, pending: this.pending });
        continue;
      }
      this.pending += 1;
      this.attempt(hook, body, alert.id, 1);
    }
  }

  /** Deliveries waiting for a try or under way. */
  get inFlight(): number {
    return this.pending;
  }

  private attempt(hook: Webhook, body: string, id: number, tryNo: number): void {
    void this.post(hook, body, id).then(
      () => {
        this.pending -= 1;
        if (tryNo > 1) this.log.info("webhook delivered after retries", { url: hook.url, alert: id, tries: tryNo });
      },
      (e: unknown) => {
        const problem = e instanceof Error ? e.message : String(e);
        if (tryNo >= this.retry.tries || this.closed) {
          this.pending -= 1;
          this.log.error("webhook delivery failed: giving up", { url: hook.url, alert: id, tries: tryNo, error: problem });
          return;
        }
        const delay = this.retry.firstDelayMs * 2 ** (tryNo - 1);
        this.log.error("webhook delivery failed: will retry", { url: hook.url, alert: id, try: tryNo, retryInMs: delay, error: problem });
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          this.attempt(hook, body, id, tryNo + 1);
        }, delay);
        timer.unref();
        this.timers.add(timer);
      },
    );
  }

  private async post(hook: Webhook, body: string, id: number): Promise<void> {
    const res = await fetch(hook.url, {
      method: "POST",
      body,
      headers: { "content-type": "application/json", [SIGNATURE_HEADER]: signBody(body, hook.secret), "x-corral-alert": String(id) },
      signal: AbortSignal.timeout(this.retry.timeoutMs),
    });
    await res.body?.cancel();
    if (!res.ok) throw new DeliveryFailed(res.status);
  }

  /** No more tries: pending retries are dropped (the agent is shutting down). */
  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.pending -= this.timers.size;
    this.timers.clear();
  }
}
