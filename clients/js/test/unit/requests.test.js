import assert from "node:assert/strict";
import { test } from "node:test";
import { AuthError, LISTED_MAX, Requests, TickerError } from "../../dist/index.js";

/** The state of a promise without waiting for it. */
async function state(p) {
  const pending = Symbol("pending");
  try {
    const v = await Promise.race([p, new Promise((r) => setImmediate(() => r(pending)))]);
    return v === pending ? "pending" : { value: v };
  } catch (error) {
    return { error };
  }
}

test("a subscribe resolves once the server acked every symbol", async () => {
  const r = new Requests();
  const p = r.subscribe(["A", "B"]);
  const id = r.nextId(0);
  r.sentSubscribe(id, ["A", "B"]);
  assert.equal(r.receive({ type: "subscribed", id, symbols: ["A", "B"] }), true);
  assert.deepEqual(await p, { symbols: ["A", "B"] });
});

test("an ack for part of the symbols waits for the errors naming the rest, then rejects with both", async () => {
  const r = new Requests();
  const p = r.subscribe(["A", "NOPE", "GBP"]);
  const id = r.nextId(0);
  r.sentSubscribe(id, ["A", "NOPE", "GBP"]);
  r.receive({ type: "subscribed", id, symbols: ["A"] });
  assert.equal(await state(p), "pending");
  r.receive({ type: "error", id, code: "unknown_symbol", message: "unknown symbol(s): NOPE", symbols: ["NOPE"] });
  assert.equal(await state(p), "pending");
  r.receive({ type: "error", id, code: "not_entitled", message: "not entitled to: GBP", symbols: ["GBP"] });
  const { error } = await state(p);
  assert.ok(error instanceof TickerError);
  assert.equal(error.code, "unknown_symbol");
  assert.deepEqual(error.symbols, ["NOPE", "GBP"]);
  assert.deepEqual(error.subscribed, ["A"]);
  assert.equal(error.id, id);
  assert.match(error.message, /NOPE.*GBP/);
});

test("an error for the whole request rejects at once; nothing was subscribed", async () => {
  const r = new Requests();
  const p = r.subscribe(["A", "B"]);
  const id = r.nextId(0);
  r.sentSubscribe(id, ["A", "B"]);
  r.receive({ type: "error", id, code: "too_many_symbols", message: "limit", field: "symbols" });
  const { error } = await state(p);
  assert.equal(error.code, "too_many_symbols");
  assert.equal(error.field, "symbols");
  assert.deepEqual(error.subscribed, []);
});

test("auth errors reject with AuthError", async () => {
  const r = new Requests();
  const p = r.subscribe(["A"]);
  const id = r.nextId(0);
  r.sentSubscribe(id, ["A"]);
  r.receive({ type: "error", id, code: "unauthenticated", message: "authenticate first" });
  assert.ok((await state(p)).error instanceof AuthError);
});

test("replies to other requests do not settle a subscribe", async () => {
  const r = new Requests();
  const p = r.subscribe(["A"]);
  const mine = r.nextId(0);
  r.sentSubscribe(mine, ["A"]);
  assert.equal(r.receive({ type: "subscribed", id: mine + 7, symbols: ["A"] }), false);
  assert.equal(r.receive({ type: "subscribed", symbols: ["A"] }), false);
  assert.equal(await state(p), "pending");
});

test("a subscribe survives a disconnect and resolves on the resubscription's ack", async () => {
  const r = new Requests();
  const p = r.subscribe(["A", "B"]);
  r.sentSubscribe(r.nextId(0), ["A", "B"]);
  r.disconnected();
  const again = r.nextId(1);
  r.sentSubscribe(again, ["X", "A", "B"]); // the resubscription carries everything wanted
  r.receive({ type: "subscribed", id: again, symbols: ["X", "A", "B"] });
  assert.deepEqual(await p, { symbols: ["A", "B"] });
});

test("a request without a reply in time rejects with code timeout", async () => {
  const r = new Requests();
  const p = r.subscribe(["A"]);
  const id = r.nextId(1000);
  r.sentSubscribe(id, ["A"]);
  const ping = r.expect(r.nextId(1000), "pong");
  r.expire(10_999, 10_000);
  assert.equal(await state(p), "pending");
  r.expire(11_000, 10_000);
  assert.equal((await state(p)).error.code, "timeout");
  assert.equal((await state(ping)).error.code, "timeout");
  assert.deepEqual(r.symbolsOf(id), []);
});

test("replies resolve by id and type; an error with their id rejects them", async () => {
  const r = new Requests();
  const pong = r.expect(r.nextId(0), "pong");
  const unsub = r.expect(r.nextId(0), "unsubscribed");
  assert.equal(r.receive({ type: "pong", id: 1, ts: 9 }), true);
  assert.deepEqual(await pong, { type: "pong", id: 1, ts: 9 });
  r.receive({ type: "error", id: 2, code: "unknown_symbol", message: "unknown symbol(s): Q", symbols: ["Q"] });
  assert.deepEqual((await state(unsub)).error.symbols, ["Q"]);
});

test("a disconnect fails pings and auths, completes unsubscribes, keeps subscribes", async () => {
  const r = new Requests();
  const ping = r.expect(r.nextId(0), "pong");
  const auth = r.expect(r.nextId(0), "authenticated");
  const unsub = r.expect(r.nextId(0), "unsubscribed");
  const sub = r.subscribe(["A"]);
  r.disconnected();
  assert.equal((await state(ping)).error.code, "disconnected");
  assert.equal((await state(auth)).error.code, "disconnected");
  assert.equal((await state(unsub)).value.type, "unsubscribed");
  assert.equal(await state(sub), "pending");
  r.close(() => new TickerError("closed", "closed"));
  assert.equal((await state(sub)).error.code, "closed");
});

test("symbols given up before their ack no longer hold a subscribe back", async () => {
  const r = new Requests();
  const p = r.subscribe(["A", "B"]);
  r.cancel(["B"]);
  assert.equal(await state(p), "pending");
  r.cancel(["A"]);
  assert.deepEqual(await p, { symbols: [] });
  assert.deepEqual(await r.subscribe([]), { symbols: [] });
});

test("symbolsOf names what a subscribe request carried", () => {
  const r = new Requests();
  const id = r.nextId(0);
  r.sentSubscribe(id, ["A", "B"]);
  assert.deepEqual(r.symbolsOf(id), ["A", "B"]);
  assert.deepEqual(r.symbolsOf("x"), []);
});

test("an error names at most 20 symbols: a full list settles the rest of its request as refused, not a timeout", async () => {
  const r = new Requests();
  const known = ["EURUSD", "GBPUSD"];
  const unknown = Array.from({ length: 30 }, (_, i) => `NOPE${i}`);
  const p = r.subscribe([...known, ...unknown]);
  const id = r.nextId(0);
  r.sentSubscribe(id, [...known, ...unknown]);
  r.receive({ type: "subscribed", id, symbols: known });
  r.receive({ type: "error", id, code: "unknown_symbol", message: "unknown symbol(s): NOPE0, … (and 10 more)",
    field: "symbols", symbols: unknown.slice(0, LISTED_MAX) });
  const { error } = await state(p);
  assert.equal(error.code, "unknown_symbol");
  assert.deepEqual(error.symbols, unknown); // every refused one, named or not
  assert.deepEqual(error.subscribed, known);
});

test("a shorter list waits for the errors still to come (unknown first, then not entitled)", async () => {
  const r = new Requests();
  const p = r.subscribe(["A", "NOPE", "GBP"]);
  const id = r.nextId(0);
  r.sentSubscribe(id, ["A", "NOPE", "GBP"]);
  r.receive({ type: "subscribed", id, symbols: ["A"] });
  r.receive({ type: "error", id, code: "unknown_symbol", message: "unknown symbol(s): NOPE", symbols: ["NOPE"] });
  assert.equal(await state(p), "pending");
});
