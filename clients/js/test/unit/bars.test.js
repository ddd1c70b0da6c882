// The bar store: snapshots replace a series, the newest state per start wins, corrections apply anywhere.
import assert from "node:assert/strict";
import { test } from "node:test";
import { BarStore, seriesKey, splitKey } from "../../dist/index.js";

const MIN = 60_000_000;
const bar = (i, seq, over = {}) => ({
  symbol: "EURUSD", interval: "1m", start: i * MIN, end: (i + 1) * MIN,
  open: 1.1, high: 1.2, low: 1.0, close: 1.15, ticks: 5, seq, closed: true, ...over,
});
const snapshot = (bars, seq = bars.at(-1)?.seq ?? 0) => ({ type: "bars", symbol: "EURUSD", interval: "1m", seq, bars });
const msg = (b) => ({ type: "bar", ...b });

test("a snapshot gives the series oldest first, the forming bar last; unknown fields are not kept", () => {
  const store = new BarStore();
  const got = store.replace(snapshot([bar(1, 3), bar(2, 7), bar(3, 9, { closed: false, extra: 1 })]));
  assert.deepEqual(got.map((b) => [b.start / MIN, b.closed]), [[1, true], [2, true], [3, false]]);
  assert.equal("extra" in got[2], false);
  assert.deepEqual(store.get("EURUSD", "1m"), got);
  assert.equal(store.last("EURUSD", "1m").closed, false);
  assert.deepEqual(store.get("EURUSD", "5m"), []);
  assert.deepEqual(store.series(), [["EURUSD", "1m"]]);
});

test("forming updates replace the forming bar by seq; its close is final; the next bar appends", () => {
  const store = new BarStore();
  store.replace(snapshot([bar(1, 3), bar(2, 4, { closed: false, close: 1.1 })]));
  const forming = store.apply(msg(bar(2, 6, { closed: false, close: 1.12 })));
  assert.equal(forming.previous.close, 1.1);
  assert.equal(forming.gap, 1); // seq 5 was a forming update merged away: nothing lost
  assert.equal(store.apply(msg(bar(2, 5, { closed: false, close: 9 }))), null); // an older state: dropped
  const closed = store.apply(msg(bar(2, 7, { close: 1.13 })));
  assert.equal(closed.bar.closed, true);
  const next = store.apply(msg(bar(3, 8, { closed: false })));
  assert.equal(next.previous, undefined);
  assert.deepEqual(store.get("EURUSD", "1m").map((b) => [b.start / MIN, b.seq, b.close]), [[1, 3, 1.15], [2, 7, 1.13], [3, 8, 1.15]]);
  assert.deepEqual(store.stats, { gaps: 1, oldSeq: 1, noSeries: 0, malformed: 0 });
});

test("a correction changes a closed bar wherever it sits, or creates one where no tick was", () => {
  const store = new BarStore();
  store.replace(snapshot([bar(1, 3), bar(2, 4), bar(4, 6), bar(5, 8, { closed: false })]));
  const corrected = store.apply(msg(bar(2, 9, { high: 1.3, corrected: true })));
  assert.equal(corrected.previous.high, 1.2);
  assert.equal(corrected.bar.corrected, true);
  store.apply(msg(bar(3, 10, { corrected: true }))); // minute 3 had no tick until a late one
  assert.deepEqual(store.get("EURUSD", "1m").map((b) => [b.start / MIN, b.corrected === true]),
    [[1, false], [2, true], [3, true], [4, false], [5, false]]);
});

test("history read over REST merges in either order: the newest state per start wins, the series seq is the stream's", () => {
  const store = new BarStore();
  store.replace(snapshot([bar(3, 20, { closed: false })], 20));
  const changed = store.merge([bar(1, 5), bar(2, 12), bar(3, 18, { closed: false }), { ...bar(9, 1), interval: "5m" }]);
  assert.equal(changed, 2); // minute 3 is older than the stream's; the 5m series is not followed
  assert.deepEqual(store.get("EURUSD", "1m").map((b) => [b.start / MIN, b.seq]), [[1, 5], [2, 12], [3, 20]]);
  assert.equal(store.apply(msg(bar(3, 21))).gap, 0); // the REST read did not move the series' seq
  assert.equal(store.has("EURUSD", "5m"), false);
});

test("a new snapshot replaces the series; bars for series not held are dropped; forget ends one", () => {
  const store = new BarStore();
  assert.equal(store.apply(msg(bar(1, 1))), null);
  store.replace(snapshot([bar(1, 1), bar(2, 2)]));
  store.replace(snapshot([bar(7, 40, { closed: false })]));
  assert.deepEqual(store.get("EURUSD", "1m").map((b) => b.start / MIN), [7]);
  store.forget("EURUSD", "1m");
  assert.equal(store.apply(msg(bar(7, 41))), null);
  assert.equal(store.stats.noSeries, 2);
});

test("a series is bounded: the oldest bars go first", () => {
  const store = new BarStore(3);
  store.replace(snapshot([bar(1, 1), bar(2, 2)]));
  for (let i = 3; i <= 6; i++) store.apply(msg(bar(i, i)));
  assert.deepEqual(store.get("EURUSD", "1m").map((b) => b.start / MIN), [4, 5, 6]);
});

test("malformed bars are counted, not kept", () => {
  const store = new BarStore();
  const got = store.replace(snapshot([bar(1, 1), { ...bar(2, 2), start: "x" }, null]));
  assert.equal(got.length, 1);
  assert.equal(store.stats.malformed, 2);
});

test("series keys split back into symbol and interval, whatever the symbol's characters", () => {
  assert.deepEqual(splitKey(seriesKey("BTC/USD 1", "1m")), ["BTC/USD 1", "1m"]);
  assert.equal(splitKey("EURUSD"), undefined);
});
