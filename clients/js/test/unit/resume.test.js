import assert from "node:assert/strict";
import { test } from "node:test";
import { QuoteBook, outcomes, since } from "../../dist/index.js";

test("since: the book's seq and epoch, only once a snapshot named the epoch", () => {
  const book = new QuoteBook();
  book.apply({ type: "snapshot", symbol: "A", seq: 40, ts: 1, status: "live", epoch: "e1" });
  book.apply({ type: "update", symbol: "A", seq: 41, ts: 2 });
  book.apply({ type: "snapshot", symbol: "B", seq: 9, ts: 1, status: "live" }); // a server without resume
  assert.deepEqual(since(book, "A"), { seq: 41, epoch: "e1" });
  assert.equal(since(book, "B"), undefined);
  assert.equal(since(book, "C"), undefined);
});

test("outcomes: the ack's resume map per symbol; ill-typed entries are read safely", () => {
  const got = outcomes({
    type: "subscribed", symbols: ["A", "B", "C", "D"],
    resume: { A: { recovered: true, replayed: 2 }, B: { recovered: false, reason: "too_old" }, C: "junk", D: { recovered: "yes" } },
  });
  assert.deepEqual([...got], [
    ["A", { recovered: true, replayed: 2 }],
    ["B", { recovered: false, replayed: 0, reason: "too_old" }],
    ["D", { recovered: false, replayed: 0 }],
  ]);
  assert.equal(outcomes({ type: "subscribed", symbols: ["A"] }).size, 0);
});
