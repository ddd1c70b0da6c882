import assert from "node:assert/strict";
import { test } from "node:test";
import { BarSubscriptions, Subscriptions, keysOf, request } from "../../dist/index.js";

test("add keeps distinct symbols in order; re-adding moves a symbol last with its new throttle", () => {
  const subs = new Subscriptions();
  assert.deepEqual(subs.add(["A", "B", "A"], 0), ["A", "B"]);
  subs.add(["A"], 250);
  assert.deepEqual(subs.symbols, ["B", "A"]);
  assert.equal(subs.throttleOf("A"), 250);
});

test("remove returns only what was wanted", () => {
  const subs = new Subscriptions();
  subs.add(["A", "B"], 0);
  assert.deepEqual(subs.remove(["B", "C", "B"]), ["B"]);
  assert.deepEqual(subs.symbols, ["A"]);
  assert.equal(subs.has("B"), false);
});

test("requests restore everything: one subscribe per distinct throttle", () => {
  const subs = new Subscriptions();
  subs.add(["A", "B"], 0);
  subs.add(["C"], 500);
  subs.add(["D"], 0);
  assert.deepEqual(subs.requests(), [
    { op: "subscribe", symbols: ["A", "B", "D"] },
    { op: "subscribe", symbols: ["C"], throttle_ms: 500 },
  ]);
});

test("requests carry `since` for the symbols with a known position, and only then", () => {
  const subs = new Subscriptions();
  subs.add(["A", "B"], 0);
  const since = (s) => (s === "A" ? { seq: 41, epoch: "e1" } : undefined);
  assert.deepEqual(subs.requests(since), [{ op: "subscribe", symbols: ["A", "B"], since: { A: { seq: 41, epoch: "e1" } } }]);
  assert.deepEqual(request(["B"], 0, since), { op: "subscribe", symbols: ["B"] });
});

test("bar series: one resubscribe per interval, history and throttle, each asking its history again", () => {
  const subs = new BarSubscriptions();
  subs.add(["EURUSD", "GBPUSD"], ["1m"], 300, 0);
  subs.add(["EURUSD"], ["1h"], 0, 250);
  subs.add(["XAUUSD"], ["1m"], 300, 0);
  assert.deepEqual(subs.requests(), [
    { op: "subscribe", symbols: ["EURUSD", "GBPUSD", "XAUUSD"], bars: "1m", history: 300 },
    { op: "subscribe", symbols: ["EURUSD"], bars: "1h", throttle_ms: 250 },
  ]);
  assert.deepEqual(subs.series, [["EURUSD", "1m"], ["GBPUSD", "1m"], ["EURUSD", "1h"], ["XAUUSD", "1m"]]);
});

test("bar series are removed by key; ofSymbols finds every interval of a symbol", () => {
  const subs = new BarSubscriptions();
  subs.add(["EURUSD", "GBPUSD"], ["1m", "5m"], 0, 0);
  assert.deepEqual(subs.remove(keysOf(["EURUSD"], ["5m", "1h"])), keysOf(["EURUSD"], ["5m"]));
  assert.deepEqual(subs.ofSymbols(["GBPUSD"]), keysOf(["GBPUSD"], ["1m", "5m"]));
  assert.equal(subs.has("EURUSD", "1m"), true);
  assert.equal(subs.has("EURUSD", "5m"), false);
});
