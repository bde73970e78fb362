// console.*: a container's console, its last 256 KiB and live output, and typing into it.
import { z } from "zod";
import { NAME_RE } from "@corral/core";
import { mutationProcedure, publicProcedure, router } from "../trpc.ts";

const byName = z.object({ name: z.string().regex(NAME_RE) });

export const consoleRouter = router({
  history: publicProcedure.input(byName).query(({ ctx, input }) => ctx.agent.runtime.consoleHistory(input.name).toString("utf8")),

  /** The ring buffer first, then live output; chunks are UTF-8 text. */
  onOutput: publicProcedure.input(byName).subscription(async function* ({ ctx, input, signal }) {
    const queue: string[] = [];
    let wake: (() => void) | undefined;
    const off = ctx.agent.runtime.onConsole((name, data) => {
      if (name !== input.name) return;
      queue.push(data.toString("utf8"));
      wake?.();
    });
    signal?.addEventListener("abort", () => wake?.());
    try {
      yield ctx.agent.runtime.consoleHistory(input.name).toString("utf8");
      while (!signal?.aborted) {
        const chunk = queue.shift();
        if (chunk !== undefined) yield chunk;
        else await new Promise<void>((r) => (wake = r));
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
