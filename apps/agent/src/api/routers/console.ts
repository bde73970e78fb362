// console.*: a container's console, its last 256 KiB and live output, and typing into it.
import { StringDecoder } from "node:string_decoder";
import { z } from "zod";
import { NAME_RE } from "@corral/core";
import { mutationProcedure, publicProcedure, router } from "../trpc.ts";

const byName = z.object({ name: z.string().regex(NAME_RE) });

/** How far (in bytes) a console reader may fall behind the container before its backlog is dropped. */
const MAX_PENDING = 1024 * 1024;

export const consoleRouter = router({
  history: publicProcedure.input(byName).query(({ ctx, input }) => ctx.agent.runtime.consoleHistory(input.name).toString("utf8")),

  /**
   * The ring buffer first, then live output, as UTF-8 text (a character split across two reads is
   * decoded whole). A reader that falls MAX_PENDING bytes behind loses the backlog and is told so
   * in the stream, rather than growing the agent without end (a container running `yes`).
   */
  onOutput: publicProcedure.input(byName).subscription(async function* ({ ctx, input, signal }) {
    const decoder = new StringDecoder("utf8");
    let queue: Array<{ text: string; bytes: number }> = [];
    let pending = 0;
    let skipped = 0;
    let wake: (() => void) | undefined;
    const off = ctx.agent.runtime.onConsole((name, data) => {
      if (name !== input.name) return;
      if (pending > MAX_PENDING) {
        skipped += pending;
        queue = [];
        pending = 0;
      }
      queue.push({ text: decoder.write(data), bytes: data.length });
      pending += data.length;
      wake?.();
    });
    signal?.addEventListener("abort", () => wake?.());
    try {
      yield ctx.agent.runtime.consoleHistory(input.name).toString("utf8");
      while (!signal?.aborted) {
        if (skipped > 0) {
          yield `\r\n[corral: ${skipped} bytes of console output skipped: this reader fell behind]\r\n`;
          skipped = 0;
        }
        const chunk = queue.shift();
        if (chunk === undefined) {
          await new Promise<void>((r) => (wake = r));
          continue;
        }
        pending -= chunk.bytes;
        if (chunk.text) yield chunk.text;
      }
    } finally {
      off();
    }
  }),

  write: mutationProcedure.input(byName.extend({ data: z.string().max(65536) })).mutation(({ ctx, input }) => {
    ctx.agent.runtime.writeConsole(input.name, input.data);
    return { written: input.data.length };
  }),
});
