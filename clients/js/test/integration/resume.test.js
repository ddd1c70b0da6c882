// Resume against a real server: the connection drops (a TCP proxy between client and server
// cuts it, or goes silent), the client comes back with `since` and carries on where it was.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { WebSocket } from "ws";
import { backoff, connect } from "../../dist/index.js";
import { until } from "../fake-socket.js";
import { startProxy } from "../proxy.js";
import { next, sleep, startServer } from "../server.js";

const cleanup = [];
after(async () => {
  for (const f of cleanup.reverse()) await f();
});

async function setup(toml = "") {
  const server = await startServer({ toml });
  cleanup.push(() => server.stop());
  const proxy = await startProxy(server);
  cleanup.push(() => proxy.close());
  return { server, proxy };
}

function open(url, options = {}) {
  const c = connect(url, { WebSocket, backoff: () => backoff({ initialMs: 100, maxMs: 200 }), ...options });
  cleanup.push(() => c.close());
  return c;
}

/** Every update's seq per symbol, the snapshots, the gaps and the resumes, as they arrive. */
function record(c, symbols) {
  const seen = { seqs: Object.fromEntries(symbols.map((s) => [s, []])), snapshots: [], gaps: [], resumes: [] };
  c.on("message", (m) => {
    if (m.type === "update") seen.seqs[m.symbol].push(m.seq);
    if (m.type === "snapshot") seen.snapshots.push(m);
  });
  c.on("gap", (g) => seen.gaps.push(g));
  c.on("resume", (r) => seen.resumes.push(r));
  return seen;
}

async function serverSeq(server, symbol) {
  const resp = await fetch(`${server.base}/api/snapshot?symbols=${symbol}`);
  return (await resp.json()).snapshots[0].seq;
}

test("after the connection drops the client resumes: every update once, in order, recovered, no gap", async () => {
  const { proxy } = await setup();
  const symbols = ["EURUSD", "GBPUSD", "USDJPY"];
  const c = open(proxy.url);
  const seen = record(c, symbols);
  await c.subscribe(symbols);
  await until(() => symbols.every((s) => seen.seqs[s].length >= 5), 15_000);

  const closed = next(c, "close");
  proxy.refuse();
  proxy.cut(); // no close frame either way, as when a network drops
  assert.equal((await closed).code, 1006);
  assert.equal(c.book.get("EURUSD").status, "stale");
  const before = Object.fromEntries(symbols.map((s) => [s, seen.seqs[s].length]));
  await sleep(500); // the market moves on while the client is away
  proxy.refuse(false);

  await until(() => seen.resumes.length === 1, 10_000);
  await until(() => symbols.every((s) => seen.seqs[s].length >= before[s] + 10), 15_000);
  assert.deepEqual([...c.recovery.keys()].sort(), [...symbols].sort());
  for (const s of symbols) assert.equal(c.recovery.get(s).recovered, true, s);
  assert.ok([...c.recovery.values()].reduce((n, r) => n + r.replayed, 0) > 0, "nothing was replayed");
  assert.equal(seen.snapshots.length, symbols.length); // only the first connection's: the resume sent none
  for (const s of symbols) {
    const seqs = seen.seqs[s];
    assert.deepEqual(seqs, seqs.map((_, i) => seqs[0] + i), `${s}: a seq missing or repeated`);
    assert.equal(c.book.get(s).seq, seqs.at(-1));
    assert.equal(c.book.get(s).status, "live"); // the status after the replay
  }
  assert.deepEqual(seen.gaps, []);
  assert.equal(c.book.stats.gaps, 0);
  assert.equal(c.stats.reconnects, 1);
});

test("after the server closes the connection itself (1009: a frame over its limit) the client resumes too", async () => {
  const { server } = await setup();
  const sockets = [];
  class Recorded extends WebSocket {
    constructor(...args) {
      super(...args);
      sockets.push(this);
    }
  }
  const c = open(server.url, { WebSocket: Recorded });
  const seen = record(c, ["EURUSD"]);
  await c.subscribe("EURUSD");
  await until(() => seen.seqs.EURUSD.length >= 5, 15_000);
  const closed = next(c, "close");
  sockets[0].send("x".repeat(70_000)); // limits.max_message_bytes is 65536: the server closes
  const bye = await closed;
  assert.equal(bye.code, 1009);
  assert.ok(bye.retryInMs !== null, "a 1009 is not a reason to give up");
  await until(() => seen.resumes.length === 1, 10_000);
  assert.equal(c.recovery.get("EURUSD").recovered, true);
  const n = seen.seqs.EURUSD.length;
  await until(() => seen.seqs.EURUSD.length >= n + 5, 15_000);
  const seqs = seen.seqs.EURUSD;
  assert.deepEqual(seqs, seqs.map((_, i) => seqs[0] + i));
  assert.equal(seen.snapshots.length, 1);
});

test("a resume from too long ago: a fresh snapshot, recovered false (too_old), and the gap it skipped", async () => {
  const { server, proxy } = await setup("[resume]\nmax_updates = 5\n");
  const c = open(proxy.url);
  const seen = record(c, ["EURUSD"]);
  await c.subscribe("EURUSD");
  await until(() => seen.seqs.EURUSD.length >= 3, 15_000);
  proxy.refuse();
  proxy.cut();
  await next(c, "close");
  const left = c.book.get("EURUSD").seq;
  for (let i = 0; i < 100 && (await serverSeq(server, "EURUSD")) < left + 10; i++) await sleep(100);
  proxy.refuse(false);

  await until(() => seen.snapshots.length === 2, 10_000);
  assert.deepEqual(c.recovery.get("EURUSD"), { recovered: false, replayed: 0, reason: "too_old" });
  assert.equal(seen.resumes.length, 1);
  const snap = seen.snapshots[1];
  assert.equal(c.book.get("EURUSD").seq >= snap.seq, true); // the snapshot replaced the quote
  assert.equal(seen.gaps.length, 1);
  assert.deepEqual(seen.gaps[0], { symbol: "EURUSD", from: left, to: snap.seq, missed: snap.seq - left });
  assert.ok(seen.gaps[0].missed >= 10);
});

test("a connection gone silent (no data, no heartbeat) is noticed by the heartbeat watchdog, and resumed", async () => {
  const { proxy } = await setup();
  const c = open(proxy.url, { serverHeartbeat: 1000, silenceFactor: 2, idleTimeoutMs: 60_000 });
  const seen = record(c, ["EURUSD"]);
  await c.subscribe("EURUSD");
  await until(() => seen.seqs.EURUSD.length >= 3, 15_000);
  const closed = next(c, "close");
  const quietSince = Date.now();
  proxy.silence(); // both sockets stay open: only the bytes stop
  const bye = await closed;
  const noticedAfter = Date.now() - quietSince;
  assert.equal(bye.code, 4000);
  assert.match(bye.reason, /not even a heartbeat/);
  assert.ok(noticedAfter >= 1900 && noticedAfter < 6000, `noticed after ${noticedAfter} ms`);
  await until(() => seen.resumes.length === 1, 10_000);
  assert.equal(c.recovery.get("EURUSD").recovered, true);
  const n = seen.seqs.EURUSD.length;
  await until(() => seen.seqs.EURUSD.length >= n + 5, 15_000);
  const seqs = seen.seqs.EURUSD;
  assert.deepEqual(seqs, seqs.map((_, i) => seqs[0] + i)); // what the silence held back was replayed
});
