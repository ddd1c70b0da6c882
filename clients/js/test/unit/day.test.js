// The day's change as the server computes it (ticker/core/daystats.py: round(bid - prev, decimals),
// then round(100 * change / prev, 2), Python's round), without knowing the symbol's decimals.
import assert from "node:assert/strict";
import { test } from "node:test";
import { dayChange, mergeDay, round, toDay } from "../../dist/day.js";

const day = (over = {}) => ({ date: "2025-11-26", open: 1.083, high: 1.085, low: 1.082, prevClose: 1.08354, ticks: 9, ...over });

test("change is the decimal difference of bid and previous close, with no binary noise", () => {
  assert.equal(1.1 - 1.0, 0.10000000000000009); // what plain subtraction gives
  assert.deepEqual(dayChange(1.1, day({ prevClose: 1.0 })), [0.1, 10]);
  assert.deepEqual(dayChange(1.08515, day()), [0.00161, 0.15]);
  // A bid printed with fewer places than the symbol's decimals (1.16 at 5) changes nothing.
  assert.deepEqual(dayChange(1.16, day({ prevClose: 1.15128 })), [0.00872, 0.76]);
  assert.deepEqual(dayChange(151.234, day({ prevClose: 150.9 })), [0.334, 0.22]);
  assert.deepEqual(dayChange(4080.25, day({ prevClose: 4079.3 })), [0.95, 0.02]);
});

test("change % rounds as Python's round: an exact tie goes to the even hundredth", () => {
  // 100 * 2.5 / 2000 is exactly 0.125: half up (toFixed, Math.round) would say 0.13.
  assert.deepEqual(dayChange(2002.5, day({ prevClose: 2000 })), [2.5, 0.12]);
  assert.deepEqual(dayChange(1997.5, day({ prevClose: 2000 })), [-2.5, -0.12]);
  assert.deepEqual(dayChange(2007.5, day({ prevClose: 2000 })), [7.5, 0.38]);
  assert.deepEqual([round(0.125, 2), round(0.375, 2), round(-0.625, 2), round(2.675, 2)], [0.12, 0.38, -0.62, 2.67]);
  // A loss under 0.005 % is -0, as the server's JSON says (-0.0).
  assert.ok(Object.is(dayChange(4326.7, day({ prevClose: 4326.8 }))[1], -0));
});

test("agrees with the server's Python on sampled prices (generated with Python's round)", () => {
  // [bid, prev_close, change, change_pct] from round(bid - prev, d), round(100 * change / prev, 2)
  const cases = [
    [1.15818, 1.14333, 0.01485, 1.3], [0.6, 0.6, 0.0, 0.0], [3763.65606, 3837.83978, -74.18372, -1.93],
    [3832.125, 3912.6651, -80.5401, -2.06], [0.56, 0.57, -0.01, -1.75], [0.5509, 0.5425, 0.0084, 1.55],
    [92858.2445, 94180.795, -1322.5505, -1.4], [0.59975, 0.59532, 0.00443, 0.74], [90186.8, 89586.1, 600.7, 0.67],
    [156.95669, 158.75547, -1.79878, -1.13], [50.51, 51.97, -1.46, -2.81],
  ];
  for (const [bid, prev, change, pct] of cases) assert.deepEqual(dayChange(bid, day({ prevClose: prev })), [change, pct], `${bid} ${prev}`);
});

test("no change without a bid, a previous close (or one of 0), or a tick in the day", () => {
  assert.deepEqual(dayChange(null, day()), [null, null]);
  assert.deepEqual(dayChange(1.1, null), [null, null]);
  assert.deepEqual(dayChange(1.1, day({ prevClose: null })), [null, null]);
  assert.deepEqual(dayChange(1.1, day({ prevClose: 0 })), [null, null]);
  // A day just rolled: the server's change is null until the day's first tick.
  assert.deepEqual(dayChange(1.1, day({ open: null, high: null, low: null })), [null, null]);
});

test("a wire day in camelCase; anything without a date is no day", () => {
  const wire = { date: "2025-11-26", open: 1.083, high: 1.085, low: 1.082, prev_close: 1.08354, change: 0.1, change_pct: 1, ticks: 9 };
  assert.deepEqual(toDay(wire), day());
  assert.equal(toDay(null), null);
  assert.equal(toDay({ open: 1 }), null);
  assert.deepEqual(toDay({ date: "2025-11-27", open: null, high: "x", prev_close: 1.1 }),
    { date: "2025-11-27", open: null, high: null, low: null, prevClose: 1.1, ticks: 0 });
});

test("an update's day fields merge: only open, high and low, only those it carries", () => {
  const d = day();
  assert.deepEqual(mergeDay(d, { high: 1.086 }), { ...d, high: 1.086 });
  assert.deepEqual(mergeDay(d, { open: 1.09, high: 1.09, low: 1.09, ticks: 1, prev_close: 2 }), { ...d, open: 1.09, high: 1.09, low: 1.09 });
  assert.deepEqual(d.high, 1.085); // the day it merged into is not changed
});
