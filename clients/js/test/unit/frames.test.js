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
  assert.equal(decode({ type: "bars", symbol: "EURUSD" }), null);
  assert.equal(decode({ symbol: "EURUSD" }), null);
  assert.equal(decode({ type: "update", symbol: "EURUSD" }), undefined); // no seq
  assert.equal(decode({ type: "update", symbol: "EURUSD", seq: 1.5 }), undefined);
  assert.equal(decode({ type: "subscribed", symbols: ["A", 1] }), undefined);
  assert.equal(decode({ type: "constructor" }), null); // not fooled by Object.prototype
});

test("decode keeps fields it does not know (the protocol grows by adding them)", () => {
  const raw = { type: "snapshot", symbol: "EURUSD", seq: 7, ts: 1, status: "live", open: 1.08, epoch: "e1" };
  assert.deepEqual(decode(raw), raw);
});
