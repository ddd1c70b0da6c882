import assert from "node:assert/strict";
import { test } from "node:test";
import { QuoteBook, mid, spread } from "../../dist/index.js";

const snap = (over = {}) => ({
  type: "snapshot", symbol: "EURUSD", seq: 10, bid: 1.1, ask: 1.2, bid_size: 1e6, ask_size: 2e6,
  ts: 1000, status: "live", ...over,
});

test("a snapshot sets the whole quote, in camelCase", () => {
  const book = new QuoteBook();
  const change = book.apply(snap());
  assert.deepEqual(change.quote, {
    symbol: "EURUSD", seq: 10, ts: 1000, status: "live", bid: 1.1, ask: 1.2, bidSize: 1e6, askSize: 2e6,
    day: null, change: null, changePct: null, nextOpen: null, nextClose: null, // a server without market hours
  });
  assert.equal(change.previous, undefined);
  assert.equal(book.get("EURUSD"), change.quote);
  assert.equal(book.size, 1);
});

test("a symbol that has not ticked yet has null prices and status pending", () => {
  const book = new QuoteBook();
  const q = book.apply(snap({ bid: null, ask: null, bid_size: null, ask_size: null, status: "pending" })).quote;
  assert.equal(q.bid, null);
  assert.equal(q.status, "pending");
  assert.equal(mid(q), null);
  assert.equal(spread(q), null);
});

test("an update applies only the fields it carries, on top of the snapshot", () => {
  const book = new QuoteBook();
  book.apply(snap());
  const change = book.apply({ type: "update", symbol: "EURUSD", seq: 11, ask: 1.25, ts: 2000 });
  assert.deepEqual(change.quote, { ...change.previous, seq: 11, ask: 1.25, ts: 2000 });
  assert.equal(change.previous.ask, 1.2);
  assert.equal(change.gap, 0);
  // An update carrying no field confirms the quote: only seq and ts move.
  const confirm = book.apply({ type: "update", symbol: "EURUSD", seq: 12, ts: 3000 }).quote;
  assert.equal(confirm.ask, 1.25);
  assert.equal(confirm.seq, 12);
});

test("a seq gap is reported: updates the server merged; the state is still the latest", () => {
  const book = new QuoteBook();
  book.apply(snap());
  const change = book.apply({ type: "update", symbol: "EURUSD", seq: 14, bid: 1.15, ts: 2000 });
  assert.equal(change.gap, 3);
  assert.equal(change.quote.bid, 1.15);
  book.apply({ type: "update", symbol: "EURUSD", seq: 16, ts: 2001 });
  assert.equal(book.stats.gaps, 4);
});

test("an update whose seq is not higher is a leftover and is dropped", () => {
  const book = new QuoteBook();
  book.apply(snap());
  assert.equal(book.apply({ type: "update", symbol: "EURUSD", seq: 10, bid: 9, ts: 1 }), null);
  assert.equal(book.apply({ type: "update", symbol: "EURUSD", seq: 3, bid: 9, ts: 1 }), null);
  assert.equal(book.get("EURUSD").bid, 1.1);
  assert.equal(book.stats.oldSeq, 2);
});

test("updates and statuses for a symbol without a snapshot are dropped", () => {
  const book = new QuoteBook();
  assert.equal(book.apply({ type: "update", symbol: "GBPUSD", seq: 5, bid: 1, ts: 1 }), null);
  assert.equal(book.apply({ type: "status", symbol: "GBPUSD", status: "stale" }), null);
  assert.equal(book.stats.noSnapshot, 2);
  assert.equal(book.has("GBPUSD"), false);
});

test("a snapshot replaces the seq baseline, even with a lower seq (the feed restarted)", () => {
  const book = new QuoteBook();
  book.apply(snap({ seq: 500 }));
  const q = book.apply(snap({ seq: 3, bid: 1.3 })).quote;
  assert.equal(q.seq, 3);
  assert.equal(book.apply({ type: "update", symbol: "EURUSD", seq: 4, bid: 1.31, ts: 5 }).quote.bid, 1.31);
});

test("status changes only the status; statuses the client does not know are kept as they come", () => {
  const book = new QuoteBook();
  book.apply(snap());
  const change = book.apply({ type: "status", symbol: "EURUSD", status: "halted", ts: 5 });
  assert.equal(change.quote.status, "halted");
  assert.equal(change.quote.bid, 1.1);
  assert.equal(change.quote.seq, 10);
});

test("the epoch of a snapshot is kept across updates (where resume would start)", () => {
  const book = new QuoteBook();
  book.apply(snap({ epoch: "e7" }));
  const q = book.apply({ type: "update", symbol: "EURUSD", seq: 11, ts: 2 }).quote;
  assert.equal(q.epoch, "e7");
  assert.equal(book.apply(snap({ seq: 1 })).quote.epoch, undefined); // a snapshot without one clears it
});

test("markStale turns every quote stale once and reports only what changed", () => {
  const book = new QuoteBook();
  book.apply(snap());
  book.apply(snap({ symbol: "GBPUSD" }));
  book.apply({ type: "status", symbol: "GBPUSD", status: "stale" });
  const changes = book.markStale();
  assert.deepEqual(changes.map((c) => c.quote.symbol), ["EURUSD"]);
  assert.equal(changes[0].previous.status, "live");
  assert.deepEqual([...book].map((q) => q.status), ["stale", "stale"]);
  assert.deepEqual(book.markStale(), []);
});

test("forget drops symbols so their late updates are ignored", () => {
  const book = new QuoteBook();
  book.apply(snap());
  book.forget(["EURUSD"]);
  assert.equal(book.apply({ type: "update", symbol: "EURUSD", seq: 11, ts: 2 }), null);
  assert.deepEqual(book.symbols(), []);
});

test("mid and spread", () => {
  const q = new QuoteBook().apply(snap({ bid: 1.08412, ask: 1.08415 })).quote;
  assert.equal(mid(q), (1.08412 + 1.08415) / 2);
  assert.ok(Math.abs(spread(q) - 0.00003) < 1e-12);
});

// ---------------------------------------------------------------- resume (docs/protocol.md, "Resuming after a reconnect")

test("across a drop the book keeps seq and epoch; replayed updates continue it without a gap, then the status", () => {
  const book = new QuoteBook();
  book.apply(snap({ seq: 40, epoch: "e1" }));
  book.apply({ type: "update", symbol: "EURUSD", seq: 41, bid: 1.11, ts: 2000 });
  book.markStale(); // the connection dropped
  assert.deepEqual([book.get("EURUSD").seq, book.get("EURUSD").epoch, book.get("EURUSD").status], [41, "e1", "stale"]);
  // recovered: the server replays 42 and 43, each one above the last, then the current status
  const gaps = [[42, 1.242], [43, 1.243]].map(([seq, ask]) => book.apply({ type: "update", symbol: "EURUSD", seq, ask, ts: seq }).gap);
  assert.deepEqual(gaps, [0, 0]);
  assert.equal(book.apply({ type: "status", symbol: "EURUSD", status: "live", ts: 44 }).quote.status, "live");
  assert.deepEqual([book.get("EURUSD").seq, book.get("EURUSD").bid, book.get("EURUSD").ask], [43, 1.11, 1.243]);
  assert.equal(book.stats.gaps, 0);
});

test("a snapshot that skips seq of the same epoch (a resume too old) is a gap; another epoch starts afresh", () => {
  const book = new QuoteBook();
  book.apply(snap({ seq: 40, epoch: "e1" }));
  const tooOld = book.apply(snap({ seq: 52, epoch: "e1" }));
  assert.equal(tooOld.gap, 12); // 41..52 happened, and this client saw none of them
  assert.equal(book.stats.gaps, 12);
  const restarted = book.apply(snap({ seq: 3, epoch: "e2" })); // the server restarted: a new sequence
  assert.equal(restarted.gap, 0);
  assert.equal(book.apply(snap({ seq: 3, epoch: "e2" })).gap, 0); // a resync at the same seq missed nothing
  assert.equal(book.get("EURUSD").epoch, "e2");
  assert.equal(book.stats.gaps, 12);
});

// ---------------------------------------------------------------- market hours and the trading day
// (docs/protocol.md, "v1 addition: market status and the trading day")

const DAY = { date: "2025-11-26", open: 1.08301, high: 1.08512, low: 1.08211, prev_close: 1.08354, change: 0.00058, change_pct: 0.05, ticks: 5231 };
const daySnap = (over = {}) => snap({ bid: 1.08412, ask: 1.08415, day: DAY, next_open: 1764540000000000, next_close: 1764370800000000, ...over });

test("a snapshot brings the day (camelCase), the session times, and the change as the server sent it", () => {
  const book = new QuoteBook();
  const q = book.apply(daySnap()).quote;
  assert.deepEqual(q.day, { date: "2025-11-26", open: 1.08301, high: 1.08512, low: 1.08211, prevClose: 1.08354, ticks: 5231 });
  assert.deepEqual([q.change, q.changePct], [DAY.change, DAY.change_pct]); // computed from the bid: the same numbers
  assert.deepEqual([q.nextOpen, q.nextClose], [1764540000000000, 1764370800000000]);
  // Before the first tick: no day, and a market that never closes has no times.
  const pending = book.apply(snap({ symbol: "BTCUSD", bid: null, ask: null, status: "pending", day: null, next_open: null, next_close: null })).quote;
  assert.deepEqual([pending.day, pending.change, pending.changePct, pending.nextOpen, pending.nextClose], [null, null, null, null, null]);
});

test("the change follows the bid on every update, exactly as the server rounds it; an update's day merges", () => {
  const book = new QuoteBook();
  book.apply(daySnap());
  // The ask alone: the change stays.
  assert.equal(book.apply({ type: "update", symbol: "EURUSD", seq: 11, ask: 1.0842, ts: 2 }).quote.change, 0.00058);
  // A new high: bid and day.high move; 1.08515 - 1.08354 is 0.0016100000000001113 in binary.
  const q = book.apply({ type: "update", symbol: "EURUSD", seq: 12, bid: 1.08515, ts: 3, day: { high: 1.08515 } }).quote;
  assert.deepEqual(q.day, { date: "2025-11-26", open: 1.08301, high: 1.08515, low: 1.08211, prevClose: 1.08354, ticks: 5231 });
  assert.deepEqual([q.change, q.changePct], [0.00161, 0.15]);
  // Below the previous close: negative, rounded the same way.
  const down = book.apply({ type: "update", symbol: "EURUSD", seq: 13, bid: 1.08201, ts: 4, day: { low: 1.08201 } }).quote;
  assert.deepEqual([down.change, down.changePct, down.day.low, down.day.high], [-0.00153, -0.14, 1.08201, 1.08515]);
  assert.equal(down.day.ticks, 5231); // updates do not count ticks
});

test("a conflated update carries the union of the day's changes: applied over a seq gap, the day is right", () => {
  const book = new QuoteBook();
  // A day just begun: one tick (open = high = low), then several merged into one update.
  book.apply(daySnap({ bid: 1.1, day: { ...DAY, open: 1.1, high: 1.1, low: 1.1, ticks: 1 } }));
  const change = book.apply({ type: "update", symbol: "EURUSD", seq: 17, bid: 1.09995, ask: 1.1, ts: 9, day: { high: 1.10031, low: 1.09987 } });
  assert.equal(change.gap, 6);
  const q = change.quote;
  assert.deepEqual([q.day.open, q.day.high, q.day.low], [1.1, 1.10031, 1.09987]);
  assert.deepEqual([q.bid, q.change, q.changePct], [1.09995, 0.01641, 1.51]);
});

test("a day message (the day rolled) replaces the day whole; no change until the new day's first tick", () => {
  const book = new QuoteBook();
  book.apply(daySnap());
  const rolled = { date: "2025-11-27", open: null, high: null, low: null, prev_close: 1.08412, change: null, change_pct: null, ticks: 0 };
  const change = book.apply({ type: "day", symbol: "EURUSD", day: rolled, ts: 1764194400000000 });
  assert.equal(change.message.type, "day");
  const q = change.quote;
  assert.deepEqual(q.day, { date: "2025-11-27", open: null, high: null, low: null, prevClose: 1.08412, ticks: 0 });
  assert.deepEqual([q.change, q.changePct], [null, null]); // as the server's: the bid is the close, not a move
  assert.deepEqual([q.seq, q.ts, q.bid], [10, 1000, 1.08412]); // not a tick: seq and ts stay
  // The first tick brings open, high and low, and the change is back.
  const first = book.apply({ type: "update", symbol: "EURUSD", seq: 11, bid: 1.08420, ts: 2, day: { open: 1.0842, high: 1.0842, low: 1.0842 } }).quote;
  assert.deepEqual([first.day.open, first.change, first.changePct], [1.0842, 0.00008, 0.01]);
  // A day message for a symbol without a snapshot is dropped, like an update.
  assert.equal(book.apply({ type: "day", symbol: "GBPUSD", day: rolled, ts: 1 }), null);
  assert.equal(book.stats.noSnapshot, 1);
});

test("closed carries next_open, live next_close; a status sets the time it carries and keeps the other", () => {
  const book = new QuoteBook();
  book.apply(daySnap({ next_open: null, next_close: 1764370800000000 }));
  const closed = book.apply({ type: "status", symbol: "EURUSD", status: "closed", ts: 1764370800000512, next_open: 1764540000000000 }).quote;
  assert.deepEqual([closed.status, closed.nextOpen, closed.nextClose], ["closed", 1764540000000000, 1764370800000000]);
  assert.deepEqual([closed.bid, closed.change, closed.day.high], [1.08412, 0.00058, 1.08512]); // the day stands while closed
  const open = book.apply({ type: "status", symbol: "EURUSD", status: "live", ts: 1764540000000420, next_close: 1764975600000000 }).quote;
  assert.deepEqual([open.status, open.nextOpen, open.nextClose], ["live", 1764540000000000, 1764975600000000]);
  // A status without times (the one after a resumed replay, or a market that never closes): they stay.
  const resumed = book.apply({ type: "status", symbol: "EURUSD", status: "closed", ts: 3 }).quote;
  assert.deepEqual([resumed.status, resumed.nextOpen, resumed.nextClose], ["closed", 1764540000000000, 1764975600000000]);
});
