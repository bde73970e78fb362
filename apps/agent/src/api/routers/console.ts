// console.*: a container's console, its last 256 KiB and live output, and typing into it.
import { StringDecoder } from "node:string_decoder";
import { tracked } from "@trpc/server";
import { z } from "zod";
import { NAME_RE, type ConsoleOutput } from "@corral/core";
import { mutationProcedure, publicProcedure, router } from "../trpc.ts";

const byName = z.object({ name: z.string().regex(NAME_RE) });

/** How far (in bytes) a console reader may fall behind the container before its backlog is dropped. */
const MAX_PENDING = 1024 * 1024;

export const consoleRouter = router({
  history: publicProcedure.input(byName).query(({ ctx, input }) => ctx.agent.runtime.consoleHistory(input.name).toString("utf8")),

  /**
   * The ring buffer, then live output, as UTF-8 text (a character split across two reads is
   * decoded whole). Each item carries a cursor as its tracked id: a reader that comes back with it
   * as lastEventId gets only what it missed (`reset` false); any other reader, or one whose cursor
   * is from another run or has left the ring, gets the whole ring with `reset` true. A reader that
   * falls MAX_PENDING bytes behind loses the backlog and is told so in the stream, rather than
   * growing the agent without end (a container running `yes`).
   */
  onOutput: publicProcedure
    .input(byName.extend({ lastEventId: z.string().nullish() }))
    .subscription(async function* ({ ctx, input, signal }) {
      const runtime = ctx.agent.runtime;
      const decoder = new StringDecoder("utf8");
      let queue: Array<{ text: string; bytes: number; cursor: string }> = [];
      let pending = 0;
      let skipped = 0;
      let wake: (() => void) | undefined;
      const off = runtime.onConsole((name, data) => {
        if (name !== input.name) return;
        if (pending > MAX_PENDING) {
          skipped += pending;
          queue = [];
          pending = 0;
        }
        queue.push({ text: decoder.write(data), bytes: data.length, cursor: runtime.consoleCursor(name) });
        pending += data.length;
        wake?.();
      });
      signal?.addEventListener("abort", () => wake?.());
      try {
        // In the same turn as the listener above: nothing can fall between the two.
        const first = runtime.consoleSince(input.name, input.lastEventId ?? undefined);
        yield tracked(first.cursor, { reset: first.reset, text: first.data.toString("utf8") } satisfies ConsoleOutput);
        while (!signal?.aborted) {
          if (skipped > 0) {
            const note = `\r\n[corral: ${skipped} bytes of console output skipped: this reader fell behind]\r\n`;
            yield tracked(runtime.consoleCursor(input.name), { reset: false, text: note } satisfies ConsoleOutput);
            skipped = 0;
          }
          const chunk = queue.shift();
          if (chunk === undefined) {
            await new Promise<void>((r) => (wake = r));
            continue;
          }
          pending -= chunk.bytes;
          if (chunk.text) yield tracked(chunk.cursor, { reset: false, text: chunk.text } satisfies ConsoleOutput);
        }
      } finally {
        off();
      }
    }),

  /** Typing into the console. The audit log says how many bytes, never which (passwords at a login prompt). */
  write: mutationProcedure
    .meta({ auditDetail: (input) => `${consoleBytes(input)} bytes written` })
    .input(byName.extend({ data: z.string().max(65536) })).mutation(({ ctx, input }) => {
    ctx.agent.runtime.writeConsole(input.name, input.data);
    return { written: input.data.length };
  }),
});

/** How many bytes a console.write carries, for the audit log (never the bytes: they may be a password). */
function consoleBytes(input: unknown): number {
  const data = (input as { data?: unknown } | undefined)?.data;
  return typeof data === "string" ? Buffer.byteLength(data, "utf8") : 0;
}
