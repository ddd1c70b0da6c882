import { WebSocket } from "ws";
import {
  AuthError,
  type ErrorCode,
  type Message,
  type Quote,
  type ServerMessage,
  TickerError,
  connect,
} from "../../../dist/index.js";

export async function main(url: string, token: string): Promise<void> {
  const c = connect(url, { token, WebSocket }); // the ws package's class fits the option
  const off = c.on("quote", (q: Quote, ev) => {
    const bid: number | null = q.bid;
    const gap: number = ev.gap;
    void [bid, gap, ev.latencyMs, ev.message?.type];
  });
  off();
  c.on("gap", (g) => void g.missed);
  c.on("status", (s) => void s.status);
  c.on("close", (m) => void (m.retryInMs === null ? m.error?.code : m.code));
  c.on("error", (e) => {
    if (e instanceof AuthError) void e.message;
    const code: string = e.code;
    void code;
  });
  try {
    const { symbols } = await c.subscribe(["EURUSD"], { throttleMs: 250 });
    void (symbols satisfies string[]);
  } catch (e) {
    if (e instanceof TickerError) void e.subscribed;
  }
  for await (const m of c) {
    narrow(m);
    break;
  }
  const q = c.book.get("EURUSD");
  void q?.askSize;
  await c.unsubscribe("EURUSD");
  await c.close();

  // @ts-expect-error -- the option is throttleMs, in JS style
  await c.subscribe(["EURUSD"], { throttle_ms: 250 });
  // @ts-expect-error -- unknown events are not events
  c.on("quotes", () => {});
  // @ts-expect-error -- tokens go where the server reads them
  connect(url, { tokenIn: "header" });
}

/** Messages narrow on `type`, like the protocol's documentation reads. */
function narrow(m: Message): void {
  switch (m.type) {
    case "update":
      void (m.seq + m.ts);
      void (m.bid satisfies number | null | undefined);
      break;
    case "snapshot":
      void (m.status satisfies string);
      break;
    case "error": {
      const known: ErrorCode | (string & {}) = m.code;
      void [known, m.symbols?.length];
      break;
    }
    case "disconnected":
      void m.retryInMs;
      break;
    default:
      break;
  }
}

export const every: ServerMessage["type"][] = [
  "subscribed", "unsubscribed", "snapshot", "update", "status", "pong", "authenticated", "warning", "error",
];
