import assert from "node:assert/strict";
import { test } from "node:test";
import { Emitter } from "../../dist/emitter.js";

test("a listener that throws does not stop the others; its error is reported, not swallowed", () => {
  const reported = [];
  const e = new Emitter((err) => reported.push(err.message));
  const seen = [];
  e.on("quote", () => { throw new Error("listener bug"); });
  e.on("quote", (q) => seen.push(q));
  e.emit("quote", 1);
  e.emit("quote", 2);
  assert.deepEqual(seen, [1, 2]);
  assert.deepEqual(reported, ["listener bug", "listener bug"]);
});

test("on returns the remover; once fires a single time; has tells whether anyone listens", () => {
  const e = new Emitter();
  const seen = [];
  const off = e.on("a", (x) => seen.push(`on${x}`));
  e.once("a", (x) => seen.push(`once${x}`));
  e.emit("a", 1);
  off();
  e.emit("a", 2);
  assert.deepEqual(seen, ["on1", "once1"]);
  assert.equal(e.has("a"), false);
});

test("a listener removed while an event is being delivered still gets that event, not later ones", () => {
  const e = new Emitter();
  const seen = [];
  let offB;
  e.on("a", () => offB());
  offB = e.on("a", (x) => seen.push(x));
  e.emit("a", 1);
  e.emit("a", 2);
  assert.deepEqual(seen, [1]);
});
