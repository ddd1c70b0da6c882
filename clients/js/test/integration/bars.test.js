// Bars from a real server: subscribeBars with history, forming updates and closes, corrections
// merged by seq, fetchBars (GET /api/bars) against the stream, errors, and a reconnect.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { WebSocket } from "ws";
import { TickerError, backoff, connect, fetchBars } from "../../dist/index.js";
import { until } from "../fake-socket.js";
import { startProxy } from "../proxy.js";
import { next, startServer } from "../server.js";

const SEC = 1_000_000;
let server;
const clients = [];
const open = (url = server.url, options = {}) => {
  const c = connect(url, { WebSocket, backoff: () => backoff({ initialMs: 100, maxMs: 200 }), ...options });
  clients.push(c);
  return c;
};

before(async () => {
  server = await startServer();
});
after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await server?.stop();
});

/** The bar events of one series, as they arrive. */
function barsOf(c, symbol, interval) {
  const got = [];
  c.on("bar", (b) => b.symbol === symbol && b.interval === interval && got.push(b));
  return got;
}

test("subscribeBars with history: a snapshot of closed bars then the forming one, forming updates, one close per bar", async () => {
  // Wait until the server holds a few closed 1 s bars, so the history has something in it.
  for (let i = 0; i < 100; i++) {
    const { bars } = await fetchBars(server.url, { symbol: "EURUSD", interval: "1s", count: 10 });
    if (bars.filter((b) => b.closed).length >= 3) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const c = open();
  const snapshots = [];
  c.on("bars", (e) => snapshots.push(e));
  const events = barsOf(c, "EURUSD", "1s");
  const acks = [];
  c.on("message", (m) => m.type === "subscribed" && acks.push(m));
  assert.deepEqual(await c.subscribeBars("EURUSD", "1s", { history: 3 }), { symbols: ["EURUSD"] });
  assert.deepEqual([acks[0].bars, acks[0].history], [["1s"], 3]);
  assert.equal(snapshots.length, 1); // the snapshot came with the ack, in the same step
  const first = snapshots[0].bars;
  assert.equal(first.filter((b) => b.closed).length, 3);
  await until(() => events.filter((b) => b.closed).length >= 2, 10_000);

  const bars = c.bars.get("EURUSD", "1s");
  for (let i = 1; i < bars.length; i++) {
    const step = bars[i].start - bars[i - 1].start;
    assert.ok(step > 0 && step % SEC === 0, `bars out of order: ${bars[i - 1].start}, ${bars[i].start}`);
  }
  assert.deepEqual(bars.slice(0, -1).map((b) => b.closed), bars.slice(0, -1).map(() => true));
  assert.equal(bars.at(-1).start, Math.max(...events.map((b) => b.start)));
  for (let i = 1; i < events.length; i++) assert.ok(events[i].seq > events[i - 1].seq, "series seq must increase");
  const closes = events.filter((b) => b.closed && !b.corrected).map((b) => b.start);
  assert.equal(new Set(closes).size, closes.length, "a bar closed twice");
  assert.ok(events.some((b) => !b.closed), "no forming update");
});

test("fetchBars (GET /api/bars) gives the same closed bars as the stream; merged into the store, nothing is doubled", async () => {
  const c = open();
  const events = barsOf(c, "GBPUSD", "1s");
  await c.subscribeBars("GBPUSD", "1s"); // history 0: the forming bar only
  await until(() => events.filter((b) => b.closed).length >= 3, 10_000);
  const streamed = events.filter((b) => b.closed);
  const rest = await fetchBars(server.base + "/", { symbol: "GBPUSD", interval: "1s", count: 100 });
  assert.deepEqual([rest.symbol, rest.interval], ["GBPUSD", "1s"]);
  const byStart = new Map(rest.bars.map((b) => [b.start, b]));
  for (const b of streamed) assert.deepEqual(byStart.get(b.start), b, `the bar at ${b.start}`);
  const held = c.bars.get("GBPUSD", "1s").length;
  assert.ok(c.bars.merge(rest.bars) > 0);
  const merged = c.bars.get("GBPUSD", "1s");
  assert.ok(merged.length > held);
  assert.equal(new Set(merged.map((b) => b.start)).size, merged.length);
  for (let i = 1; i < merged.length; i++) assert.ok(merged[i].start > merged[i - 1].start);
});

test("an interval the server does not build: unknown_interval with the ones it does, nothing subscribed, over WS and HTTP", async () => {
  const c = open();
  const err = await c.subscribeBars(["EURUSD", "GBPUSD"], "7m").then(() => null, (e) => e);
  assert.ok(err instanceof TickerError);
  assert.equal(err.code, "unknown_interval");
  assert.ok(err.intervals.includes("1m") && err.intervals.includes("1s"), err.intervals.join());
  assert.deepEqual(c.barSeries, []);
  const http = await fetchBars(server.url, { symbol: "EURUSD", interval: "7m" }).then(() => null, (e) => e);
  assert.deepEqual([http.code, http.intervals], ["unknown_interval", err.intervals]);
  assert.equal((await fetchBars(server.url, { symbol: "NOPE", interval: "1m" }).catch((e) => e)).code, "unknown_symbol");
});

test("an unknown symbol among bar series: refused by name, the others subscribed", async () => {
  const c = open();
  const err = await c.subscribeBars(["EURUSD", "NOPE"], "1m").then(() => null, (e) => e);
  assert.deepEqual([err.code, err.symbols, err.subscribed], ["unknown_symbol", ["NOPE"], ["EURUSD"]]);
  assert.deepEqual(c.barSeries, [["EURUSD", "1m"]]);
  assert.ok(c.bars.has("EURUSD", "1m"));
});

test("unsubscribeBars: the server confirms and the series stops", async () => {
  const c = open();
  const events = barsOf(c, "USDJPY", "1s");
  await c.subscribeBars("USDJPY", "1s");
  await until(() => events.length >= 2, 10_000);
  assert.deepEqual(await c.unsubscribeBars("USDJPY", "1s"), { symbols: ["USDJPY"] });
  const n = events.length;
  const raw = [];
  c.on("raw", (m) => m.type === "bar" && raw.push(m));
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(events.length, n);
  assert.deepEqual(raw, []);
  assert.equal(c.bars.has("USDJPY", "1s"), false);
});

test("after a reconnect each bar series is asked again with its history: a fresh snapshot, the chart picture back", async () => {
  const proxy = await startProxy(server);
  try {
    const c = open(proxy.url);
    const snapshots = [];
    c.on("bars", (e) => snapshots.push(e));
    await c.subscribeBars("XAUUSD", "1s", { history: 5 });
    await until(() => c.bars.get("XAUUSD", "1s").filter((b) => b.closed).length >= 1, 10_000);
    proxy.cut();
    await next(c, "open", (m) => m.attempt === 2, 10_000);
    await until(() => snapshots.length === 2, 10_000);
    const after = snapshots[1].bars;
    assert.ok(after.filter((b) => b.closed).length >= 2, "the resubscription asked no history");
    assert.deepEqual(c.bars.get("XAUUSD", "1s").map((b) => b.start), after.map((b) => b.start));
  } finally {
    await proxy.close();
  }
});
