import assert from "node:assert/strict";
import { test } from "node:test";
import { decode, unpack } from "../../dist/index.js";

test("a frame holding one message object unpacks to that message", () => {
  assert.deepEqual(unpack('{"type":"pong","id":3,"ts":5}'), [{ type: "pong", id: 3, ts: 5 }]);
});

test("a frame holding an array unpacks to its messages, in order", () => {
  const got = unpack('[{"type":"update","symbol":"A","seq":2},{"type":"update","symbol":"A","seq":3}]');
  assert.deepEqual(got.map((m) => m.seq), [2, 3]);
});

test("items that are not message objects are skipped, the others kept", () => {
  assert.deepEqual(unpack('[1, null, "x", [], {"type":"pong"}]'), [{ type: "pong" }]);
  assert.deepEqual(unpack("42"), []);
});

test("frames given as bytes are decoded as UTF-8", () => {
  const bytes = new TextEncoder().encode('{"type":"status","symbol":"EURUSD","status":"live"}');
  assert.equal(unpack(bytes)[0].symbol, "EURUSD");
  assert.equal(unpack(bytes.buffer)[0].status, "live");
});

test("a frame that is not JSON throws a SyntaxError", () => {
  assert.throws(() => unpack("{not json"), SyntaxError);
});

test("decode: unknown types are ignored (null), known types missing what they need are malformed", () => {
  assert.equal(decode({ type: "news", symbol: "EURUSD" }), null);
  assert.equal(decode({ symbol: "EURUSD" }), null);
  assert.equal(decode({ type: "bars", symbol: "EURUSD", seq: 3 }), undefined); // no interval, no bars
  assert.equal(decode({ type: "bar", symbol: "EURUSD", interval: "1m", seq: 3 }), undefined); // no start
  assert.equal(decode({ type: "update", symbol: "EURUSD" }), undefined); // no seq
  assert.equal(decode({ type: "update", symbol: "EURUSD", seq: 1.5 }), undefined);
  assert.equal(decode({ type: "subscribed", symbols: ["A", 1] }), undefined);
  assert.equal(decode({ type: "day", symbol: "EURUSD", day: null, ts: 1 }), undefined); // no day
  assert.equal(decode({ type: "day", symbol: "EURUSD", day: { open: 1 }, ts: 1 }), undefined); // a day has its date
  assert.equal(decode({ type: "constructor" }), null); // not fooled by Object.prototype
});

test("decode knows every server message type of docs/protocol.md", () => {
  const bar = { symbol: "EURUSD", interval: "1m", start: 60e6, end: 120e6, open: 1, high: 2, low: 0.5, close: 1.5, ticks: 3, seq: 9, closed: false };
  const known = [
    { type: "subscribed", id: 1, symbols: ["EURUSD"], resume: { EURUSD: { recovered: true, replayed: 2 } } },
    { type: "subscribed", id: 2, symbols: ["EURUSD"], bars: ["1m"], history: 300 },
    { type: "unsubscribed", id: 3, symbols: ["EURUSD"], bars: ["1m"] },
    { type: "snapshot", symbol: "EURUSD", seq: 1, bid: null, ask: null, bid_size: null, ask_size: null, ts: 1, status: "pending", epoch: "e" },
    { type: "update", symbol: "EURUSD", seq: 2, ts: 2 },
    { type: "status", symbol: "EURUSD", status: "closed", ts: 3, next_open: 1764540000000000 },
    { type: "day", symbol: "EURUSD", ts: 4, day: { date: "2025-11-27", open: null, high: null, low: null, prev_close: 1.08412, change: null, change_pct: null, ticks: 0 } },
    { type: "bar", ...bar },
    { type: "bars", symbol: "EURUSD", interval: "1m", seq: 9, bars: [bar] },
    { type: "heartbeat", id: 4, interval_ms: 2000, ts: 5 },
    { type: "heartbeat", ts: 6 },
    { type: "pong", id: 5, ts: 7 },
    { type: "authenticated", id: 6, identity: "key:desk", expires_at: null },
    { type: "warning", code: "slow_consumer", message: "…", pending_bytes: 1, lag_ms: 2 },
    { type: "error", id: 7, code: "unknown_interval", message: "…", field: "bars", intervals: ["1m"] },
  ];
  for (const m of known) assert.deepEqual(decode(m), m, m.type);
});

test("decode keeps fields it does not know (the protocol grows by adding them)", () => {
  const raw = { type: "snapshot", symbol: "EURUSD", seq: 7, ts: 1, status: "live", open: 1.08, epoch: "e1" };
  assert.deepEqual(decode(raw), raw);
});
