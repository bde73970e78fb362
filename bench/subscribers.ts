// The fan-out subscribers, in a process of their own so that their arrival times are not delayed
// by the bench's own work: N WebSocket subscribers from a cursor, each message stamped as it
// arrives and read only at the end (deferred sockets: parsing as they went, a subscriber's stamp
// also held the time its process took to parse the messages of the other nine queued ahead of
// it); once stdin closes each one's arrivals go to stdout as JSON.
import { AgentSocket } from "./agent-socket.ts";
import type { StateEvent, StreamItem } from "@corral/core";

const [url, token, cursor, count] = process.argv.slice(2) as [string, string, string, string];
const arrivals: Array<Array<{ seq: number; at: number; t: number }>> = [];
let resyncs = 0;

const sockets = await Promise.all(Array.from({ length: Number(count) }, () => AgentSocket.open(url, token, { deferred: true })));
sockets.forEach((socket, i) => {
  arrivals[i] = [];
  socket.subscribe("events.onEvent", {}, cursor, {
    onData: (_id, data, t) => {
      const item = data as StreamItem;
      if (item.kind !== "event") {
        resyncs++;
        return;
      }
      const e: StateEvent = item.event;
      arrivals[i]!.push({ seq: e.seq, at: e.at, t });
    },
    onError: () => resyncs++,
  });
});
process.stdout.write("ready\n");
process.stdin.resume();
process.stdin.on("end", () => {
  sockets.forEach((s) => {
    s.drain();
    s.close();
  });
  // Exit only once the whole report is written: it is larger than a pipe's buffer.
  process.stdout.write(`${JSON.stringify({ arrivals, resyncs })}\n`, () => process.exit(0));
});
