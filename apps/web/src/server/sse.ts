// Server-Sent Events from a route handler: a stream the handler writes to, closed when the browser
// goes away. Server only.
import { expected } from "../lib/errors.ts";

/**
 * Bytes queued in a stream and not yet read out of it towards the connection: past this the
 * browser reads too slowly (or not at all) and the stream is closed rather than held in memory
 * without bound. A browser's live stream then opens again from its cursors, so nothing is lost.
 * (How closely this follows the socket depends on how Next's server drains a response body.)
 */
const MAX_UNREAD_BYTES = 8 * 1024 * 1024;

export interface SseWriter {
  send(event: string, data: unknown, id?: string): void;
  comment(text: string): void;
  close(): void;
  readonly closed: boolean;
}

export function sseResponse(req: Request, run: (out: SseWriter) => () => void): Response {
  const encoder = new TextEncoder();
  let cleanup: (() => void) | undefined;
  let closed = false;
  let keepalive: ReturnType<typeof setInterval> | undefined;
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      const write = (text: string) => {
        if (closed) return;
        try {
          controller.enqueue(encoder.encode(text));
        } catch (e) {
          expected(e, [TypeError], "writing an event stream"); // the browser went: the stream is closed
          finish();
          return;
        }
        if ((controller.desiredSize ?? 0) < -MAX_UNREAD_BYTES) finish();
      };
      const finish = () => {
        if (closed) return;
        closed = true;
        clearInterval(keepalive);
        cleanup?.();
        try {
          controller.close();
        } catch (e) {
          expected(e, [TypeError], "closing an event stream"); // already closed by the browser
        }
      };
      const out: SseWriter = {
        send(event, data, id) {
          // one "data:" line: JSON never holds a raw newline
          write(`${id ? `id: ${id}\n` : ""}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
        },
        comment: (text) => write(`: ${text}\n\n`),
        close: finish,
        get closed() {
          return closed;
        },
      };
      write("retry: 1000\n\n");
      keepalive = setInterval(() => out.comment("keepalive"), 15_000);
      req.signal.addEventListener("abort", finish);
      cleanup = run(out);
    },
    cancel() {
      closed = true;
      clearInterval(keepalive);
      cleanup?.();
    },
  }, { highWaterMark: 64 * 1024, size: (chunk) => chunk.byteLength });
  return new Response(stream, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    },
  });
}
