// The server goes away and comes back on the same port: the client carries on by itself.
import assert from "node:assert/strict";
import { test } from "node:test";
import { WebSocket } from "ws";
import { backoff, connect } from "../../dist/index.js";
import { next, sleep, startServer } from "../server.js";

test("after a server restart the client reconnects, resubscribes and streams again", async (t) => {
  let server = await startServer();
  t.after(() => server.stop());
  const c = connect(server.url, { WebSocket, backoff: () => backoff({ initialMs: 200, maxMs: 800 }) });
  t.after(() => c.close());
  await c.subscribe(["EURUSD", "GBPUSD"]);
  await next(c, "quote", (q, ev) => q.symbol === "GBPUSD" && ev.message?.type === "update");

  const closed = next(c, "close");
  const stale = next(c, "status", (s) => s.symbol === "EURUSD" && s.status === "stale");
  await server.stop();
  const bye = await closed;
  assert.equal(bye.code, 1001); // the server said: going away
  assert.ok(bye.retryInMs >= 100 && bye.retryInMs <= 200);
  await stale;
  assert.equal(c.book.get("GBPUSD").status, "stale");

  const later = c.subscribe("USDJPY"); // asked while the server is down
  await sleep(800); // attempts meet a closed port meanwhile: refused, retried
  assert.ok(["waiting", "connecting"].includes(c.state), c.state);

  server = await startServer({ port: server.port });
  const hello = await next(c, "open", () => true, 20_000);
  assert.ok(hello.attempt >= 2);
  assert.deepEqual(await later, { symbols: ["USDJPY"] });
  // The new process numbers its ticks afresh (a new epoch): its snapshots replace the old
  // baselines, and its updates apply on top of them.
  await next(c, "quote", (q, ev) => q.symbol === "GBPUSD" && ev.message?.type === "update", 15_000);
  await next(c, "quote", (q, ev) => q.symbol === "USDJPY" && ev.message?.type === "update", 15_000);
  assert.deepEqual(c.symbols, ["EURUSD", "GBPUSD", "USDJPY"]);
  // The client asked to resume, but a restarted server numbers in a new epoch: it says so.
  assert.deepEqual(c.recovery.get("GBPUSD"), { recovered: false, replayed: 0, reason: "epoch_changed" });
  assert.equal(c.recovery.has("USDJPY"), false); // new on this connection: nothing to resume
  assert.equal(c.stats.reconnects, 1);
  assert.equal(c.book.get("GBPUSD").status, "live");
});
