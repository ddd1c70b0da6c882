import assert from "node:assert/strict";
import { test } from "node:test";
import { backoff } from "../../dist/index.js";

const take = (it, n) => Array.from({ length: n }, () => it.next().value);

test("the cap doubles from 0.5 s to 30 s; each delay lies in [cap/2, cap]", () => {
  assert.deepEqual(take(backoff({ random: () => 0 }), 9), [250, 500, 1000, 2000, 4000, 8000, 15000, 15000, 15000]);
  assert.deepEqual(take(backoff({ random: () => 1 }), 9), [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
});

test("jitter spreads clients: delays drawn from a seeded source stay within their bounds and differ", () => {
  let seed = 12345;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const delays = take(backoff({ initialMs: 100, maxMs: 1600, random }), 12);
  let cap = 100;
  for (const d of delays) {
    assert.ok(d >= cap / 2 && d <= cap, `${d} outside [${cap / 2}, ${cap}]`);
    cap = Math.min(cap * 2, 1600);
  }
  assert.ok(new Set(delays.slice(5)).size > 1, "capped delays still vary");
});

test("an initial delay above the maximum is capped", () => {
  assert.deepEqual(take(backoff({ initialMs: 5000, maxMs: 1000, random: () => 1 }), 2), [1000, 1000]);
});

test("each generator is independent (the client restarts one after a healthy connection)", () => {
  const a = backoff({ random: () => 1 });
  take(a, 4);
  assert.equal(backoff({ random: () => 1 }).next().value, 500);
});
