import { WebSocket } from "ws";
import {
  AuthError,
  type Bar,
  type Day,
  type DayStats,
  type ErrorCode,
  type Recovery,
  type Message,
  type Quote,
  type ServerMessage,
  TickerError,
  connect,
  fetchBars,
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

  // Resume and heartbeats.
  const r: Recovery | undefined = c.recovery.get("EURUSD");
  void (r?.recovered satisfies boolean | undefined);
  c.on("resume", (results) => void [...results].map(([s, x]) => `${s}:${x.replayed}:${x.reason ?? ""}`));
  connect(url, { WebSocket, serverHeartbeat: 5000, silenceFactor: 3 });
  // @ts-expect-error -- an interval in ms, or true/false
  connect(url, { serverHeartbeat: "2s" });

  // Bars.
  const { symbols: barred } = await c.subscribeBars("EURUSD", ["1m", "1h"], { history: 300, throttleMs: 100 });
  void barred;
  c.on("bar", (b: Bar, change) => void [b.close, b.closed, b.corrected, change.previous?.seq, change.gap]);
  c.on("bars", (e) => void e.bars.at(-1)?.start);
  const candles: Bar[] = c.bars.get("EURUSD", "1m");
  void candles;
  try {
    await c.subscribeBars("EURUSD", "7m");
  } catch (e) {
    if (e instanceof TickerError && e.code === "unknown_interval") void (e.intervals satisfies string[]);
  }
  const rest = await fetchBars(url, { symbol: "EURUSD", interval: "1m", count: 500, to: new Date(), token });
  c.bars.merge(rest.bars);
  await c.unsubscribeBars("EURUSD", "1m");
  // @ts-expect-error -- history is a count of bars
  await c.subscribeBars("EURUSD", "1m", { history: "300" });
  // Market hours and the trading day.
  c.on("quote", (q) => {
    const change: number | null = q.change;
    const day: Day | null = q.day;
    void [change, q.changePct, day?.high, day?.prevClose, q.nextOpen satisfies number | null, q.nextClose];
    // @ts-expect-error -- the book's day is camelCase; prev_close is the wire's
    void day?.prev_close;
  });
  c.on("day", (q, m) => void [q.day?.date, m.day.prev_close, m.ts]);
  c.on("status", (s) => void (s.status === "closed" ? s.nextOpen : s.nextClose));
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
      void (m.day?.high satisfies number | null | undefined);
      // @ts-expect-error -- an update's day carries only open, high and low (ticks come whole)
      void m.day?.ticks;
      break;
    case "snapshot": {
      void (m.status satisfies string);
      const day: DayStats | null | undefined = m.day;
      void [day?.change_pct, m.next_open, m.next_close];
      break;
    }
    case "day":
      void [m.symbol, m.day.date, m.day.ticks satisfies number, m.ts];
      break;
    case "status":
      void [m.next_open satisfies number | undefined, m.next_close];
      break;
    case "error": {
      const known: ErrorCode | (string & {}) = m.code;
      void [known, m.symbols?.length];
      break;
    }
    case "disconnected":
      void m.retryInMs;
      break;
    case "bar":
      void (m.start + m.seq + m.close);
      break;
    case "bars":
      void m.bars.map((b) => b.high);
      break;
    case "subscribed":
      void [m.resume?.["EURUSD"]?.recovered, m.bars, m.history];
      break;

    default:
      break;
  }
}

export const every: ServerMessage["type"][] = [
  "subscribed", "unsubscribed", "snapshot", "update", "status", "day", "bar", "bars", "heartbeat", "pong", "authenticated",
  "warning", "error",
];
