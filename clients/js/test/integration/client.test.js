// The SDK against a real ticker server (Node 20's path: the `ws` package passed in).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { WebSocket } from "ws";
import { TickerError, connect } from "../../dist/index.js";
import { next, sleep, startServer } from "../server.js";

let server;
const clients = [];
const open = (options = {}) => {
  const c = connect(server.url, { WebSocket, ...options });
  clients.push(c);
  return c;
};

before(async () => {
  server = await startServer({ toml: "[limits]\nmax_symbols_per_connection = 5\n" });
});
after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await server?.stop();
});

test("subscribe resolves on the ack; each symbol's snapshot comes first, then updates with increasing seq", async () => {
  const c = open();
  const messages = [];
  const booked = new Map(); // "SYMBOL:seq" -> the book's quote right after that message
  c.on("quote", (q) => booked.set(`${q.symbol}:${q.seq}`, q));
  const reading = (async () => {
    const updates = {};
    for await (const m of c) {
      messages.push(m);
      if (m.type === "update") updates[m.symbol] = (updates[m.symbol] ?? 0) + 1;
      if ((updates.EURUSD ?? 0) >= 5 && (updates.GBPUSD ?? 0) >= 5) break;
    }
  })();
  assert.deepEqual(await c.subscribe(["EURUSD", "GBPUSD"]), { symbols: ["EURUSD", "GBPUSD"] });
  await Promise.race([reading, sleep(15_000).then(() => assert.fail("too few updates"))]);

  assert.equal(messages[0].type, "connected");
  const acked = messages.findIndex((m) => m.type === "subscribed");
  assert.deepEqual(messages[acked].symbols, ["EURUSD", "GBPUSD"]);
  for (const sym of ["EURUSD", "GBPUSD"]) {
    const mine = messages.filter((m) => m.symbol === sym && (m.type === "snapshot" || m.type === "update")); // not status, day
    assert.equal(mine[0].type, "snapshot");
    assert.ok(messages.indexOf(mine[0]) > acked);
    assert.ok(["pending", "live"].includes(mine[0].status)); // a fresh server may not have ticked it yet
    const seqs = mine.map((m) => m.seq);
    for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i] > seqs[i - 1], `${sym} seq ${seqs[i]} after ${seqs[i - 1]}`);
    // The book is the snapshot with every delta applied on top.
    const expected = { ...mine[0] };
    for (const u of mine.slice(1)) Object.assign(expected, u);
    // The book applies each frame as it arrives, so it may be a message or two ahead of
    // what the loop above read (messages wait in the iterator's buffer): compare the
    // book as it was at the last seq read, from its quote events.
    const q = booked.get(`${sym}:${expected.seq}`);
    assert.ok(q, `${sym}: no quote event at seq ${expected.seq}`);
    assert.deepEqual([q.seq, q.bid, q.ask, q.bidSize, q.askSize, q.ts],
      [expected.seq, expected.bid, expected.ask, expected.bid_size, expected.ask_size, expected.ts]);
  }
});

test("the book agrees with the server's own snapshot at the same seq", async () => {
  const c = open();
  await c.subscribe("USDJPY");
  for (let attempt = 0; attempt < 50; attempt++) {
    const resp = await fetch(`${server.base}/api/snapshot?symbols=USDJPY`);
    const [srv] = (await resp.json()).snapshots;
    const q = c.book.get("USDJPY");
    if (q?.seq === srv.seq) {
      assert.deepEqual([q.bid, q.ask, q.bidSize, q.askSize, q.ts, q.status], [srv.bid, srv.ask, srv.bid_size, srv.ask_size, srv.ts, srv.status]);
      return;
    }
    await sleep(attempt % 2 ? 3 : 37); // catch the book and the server between two ticks
  }
  assert.fail("never caught the book and the server at the same seq");
});

test("an unknown symbol rejects with unknown_symbol naming it; the known ones in the same request stream", async () => {
  const c = open();
  const err = await c.subscribe(["EURUSD", "NOPE"]).then(() => null, (e) => e);
  assert.ok(err instanceof TickerError);
  assert.equal(err.code, "unknown_symbol");
  assert.deepEqual(err.symbols, ["NOPE"]);
  assert.deepEqual(err.subscribed, ["EURUSD"]);
  assert.equal(err.field, "symbols");
  assert.deepEqual(c.symbols, ["EURUSD"]);
  await next(c, "quote", (q, ev) => q.symbol === "EURUSD" && ev.message?.type === "update");
});

test("too_many_symbols: nothing in the request is subscribed", async () => {
  const c = open();
  const err = await c.subscribe(["EURUSD", "GBPUSD", "USDJPY", "USDCHF", "AUDUSD", "USDCAD"]).then(() => null, (e) => e);
  assert.equal(err.code, "too_many_symbols");
  assert.deepEqual(err.subscribed, []);
  assert.deepEqual(c.symbols, []);
  assert.deepEqual(await c.subscribe(["XAUUSD"]), { symbols: ["XAUUSD"] }); // the connection is fine
});

test("bad_request names the field; the client does not ask for it again", async () => {
  const c = open();
  const err = await c.subscribe([42]).then(() => null, (e) => e);
  assert.equal(err.code, "bad_request");
  assert.equal(err.field, "symbols");
  assert.deepEqual(c.symbols, []);
});

test("unsubscribe resolves on the server's reply; no update for the symbol follows", async () => {
  const c = open();
  await c.subscribe(["EURUSD", "EURJPY"]);
  await next(c, "quote", (q, ev) => q.symbol === "EURJPY" && ev.message?.type === "update");
  assert.deepEqual(await c.unsubscribe("EURJPY"), { symbols: ["EURJPY"] });
  const after = [];
  c.on("message", (m) => m.symbol && after.push(m.symbol));
  await sleep(1000);
  assert.ok(after.includes("EURUSD"));
  assert.ok(!after.includes("EURJPY"));
  assert.equal(c.book.has("EURJPY"), false);
  const err = await c.unsubscribe("EURUSD").then(() => c.unsubscribe(["EURUSD"])); // already gone: nothing to send
  assert.deepEqual(err, { symbols: [] });
});

test("throttleMs: the ack echoes it and the server merges updates, which the client reports as seq gaps", async () => {
  const c = open();
  const acks = [];
  c.on("message", (m) => m.type === "subscribed" && acks.push(m));
  await c.subscribe(["EURUSD"], { throttleMs: 400 });
  assert.equal(acks[0].throttle_ms, 400);
  const gap = await next(c, "gap", (g) => g.symbol === "EURUSD");
  assert.ok(gap.missed > 0 && gap.to - gap.from === gap.missed + 1);
  assert.equal(c.book.get("EURUSD").seq, gap.to);
});

test("ping resolves with the round trip", async () => {
  const c = open();
  await next(c, "open");
  const rtt = await c.ping();
  assert.ok(rtt >= 0 && rtt < 5000);
});

test("heartbeats: an idle connection gets them, and the client does not ping", async () => {
  const c = open({ serverHeartbeat: 1000, pingIntervalMs: 500 });
  const errors = [];
  c.on("error", (e) => errors.push(e));
  const seen = { pong: 0, heartbeat: 0 };
  c.on("raw", (m) => m.type in seen && seen[m.type]++);
  await next(c, "open");
  await sleep(2600); // nothing subscribed: only heartbeats can arrive (the reply, then one per idle second)
  assert.ok(seen.heartbeat >= 3, `${seen.heartbeat} heartbeats on an idle connection`);
  assert.equal(seen.pong, 0, "the client pinged although the server sends heartbeats");
  assert.equal(c.state, "open");
  assert.deepEqual(errors, []);
});
