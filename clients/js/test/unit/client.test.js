// The client's shell against a scripted socket: what a dashboard sees, without a server.
import assert from "node:assert/strict";
import { afterEach, beforeEach, test } from "node:test";
import { AuthError, TickerError, connect } from "../../dist/index.js";
import { FakeSocket, tick, until } from "../fake-socket.js";

const snap = (symbol, seq, over = {}) => ({
  type: "snapshot", symbol, seq, bid: 1.1, ask: 1.2, bid_size: 1, ask_size: 1, ts: 1_000_000, status: "live", ...over,
});
const zeroDelays = () => (function* () { for (;;) yield 0; })();
let clients = [];

function client(options = {}) {
  const c = connect("ws://test/ws", { WebSocket: FakeSocket, backoff: zeroDelays, ...options });
  clients.push(c);
  return c;
}

/** Open the current socket and ack the subscribe it sends (with snapshots). */
async function serve(seqs = {}) {
  await tick();
  const ws = FakeSocket.last;
  ws.open();
  for (const req of ws.ops("subscribe").filter((r) => !r.bars)) {
    ws.receive([{ type: "subscribed", id: req.id, symbols: req.symbols }, ...req.symbols.map((s) => snap(s, seqs[s] ?? 1))]);
  }
  return ws;
}

beforeEach(() => FakeSocket.reset());
afterEach(async () => {
  await Promise.all(clients.map((c) => c.close()));
  clients = [];
});

test("connect() starts at once; a subscribe made before the socket opened is sent on open and resolves on the ack", async () => {
  const c = client();
  const states = [];
  c.on("state", (s) => states.push(s));
  const p = c.subscribe(["EURUSD", "GBPUSD"], { throttleMs: 250 });
  const ws = await serve();
  assert.deepEqual(ws.ops("subscribe").map(({ id, ...r }) => r), [{ op: "subscribe", symbols: ["EURUSD", "GBPUSD"], throttle_ms: 250 }]);
  assert.deepEqual(await p, { symbols: ["EURUSD", "GBPUSD"] });
  assert.deepEqual(states, ["open"]); // "connecting" was announced before any listener could exist
  assert.equal(c.state, "open");
  assert.equal(c.book.get("GBPUSD").bid, 1.1);
});

test("array frames and single-object frames both drive the book; quote events carry the change", async () => {
  const c = client();
  c.subscribe("EURUSD");
  const ws = await serve({ EURUSD: 5 });
  const seen = [];
  c.on("quote", (q, ev) => seen.push([q.seq, q.ask, ev.gap, ev.message?.type, ev.latencyMs !== null]));
  ws.receive({ type: "update", symbol: "EURUSD", seq: 6, ask: 1.3, ts: 2_000_000 });
  ws.receive([{ type: "update", symbol: "EURUSD", seq: 7, ts: 3_000_000 }, { type: "update", symbol: "EURUSD", seq: 8, bid: 1.0, ts: 4_000_000 }]);
  assert.deepEqual(seen, [[6, 1.3, 0, "update", true], [7, 1.3, 0, "update", true], [8, 1.3, 0, "update", true]]);
  assert.equal(c.book.get("EURUSD").bid, 1.0);
});

test("unknown message types and fields are ignored, still visible as raw messages", async () => {
  const c = client();
  c.subscribe("EURUSD");
  const ws = await serve();
  const raw = [], messages = [], errors = [];
  c.on("raw", (m) => raw.push(m.type));
  c.on("message", (m) => messages.push(m.type));
  c.on("error", (e) => errors.push(e));
  ws.receive([
    { type: "news", symbol: "EURUSD", text: "…" },
    { type: "update", symbol: "EURUSD", seq: 2, ask: 1.25, ts: 5, day_high: 1.3, flags: { x: 1 } },
    { type: "update", symbol: "EURUSD" }, // malformed: no seq
  ]);
  ws.receive("not json");
  assert.deepEqual(raw, ["news", "update", "update"]);
  assert.deepEqual(messages, ["update"]);
  assert.equal(c.book.get("EURUSD").ask, 1.25);
  assert.equal("day_high" in c.book.get("EURUSD"), false);
  assert.deepEqual(c.stats, { reconnects: 0, malformed: 2, ignored: 1 });
  assert.deepEqual(errors, []);
});

test("a seq gap is an event with both ends; nothing is re-requested (the delta carries the latest values)", async () => {
  const c = client();
  c.subscribe("EURUSD");
  const ws = await serve({ EURUSD: 10 });
  const gaps = [];
  c.on("gap", (g) => gaps.push(g));
  ws.receive({ type: "update", symbol: "EURUSD", seq: 11, ts: 1 });
  ws.receive({ type: "update", symbol: "EURUSD", seq: 15, bid: 1.05, ts: 2 });
  assert.deepEqual(gaps, [{ symbol: "EURUSD", from: 11, to: 15, missed: 3 }]);
  assert.equal(ws.ops("subscribe").length, 1);
  assert.equal(c.book.stats.gaps, 3);
  const fresh = c.resync(); // a dashboard that wants a fresh snapshot asks for one
  const again = ws.ops("subscribe")[1];
  assert.deepEqual(again.symbols, ["EURUSD"]);
  ws.receive([{ type: "subscribed", id: again.id, symbols: ["EURUSD"] }, snap("EURUSD", 20)]);
  assert.deepEqual(await fresh, { symbols: ["EURUSD"] });
  assert.equal(c.book.get("EURUSD").seq, 20);
});

test("per-symbol status events: live on the snapshot, stale from the server, stale on a disconnect", async () => {
  const c = client();
  const statuses = [];
  c.on("status", (s) => statuses.push(`${s.symbol}:${s.previous ?? "-"}>${s.status}`));
  c.subscribe(["EURUSD", "GBPUSD"]);
  const ws = await serve();
  ws.receive({ type: "status", symbol: "GBPUSD", status: "stale", ts: 9 });
  ws.receive({ type: "status", symbol: "GBPUSD", status: "closed", ts: 9 });
  ws.serverClose(1001, "server shutting down");
  assert.deepEqual(statuses, [
    "EURUSD:->live", "GBPUSD:->live", "GBPUSD:live>stale", "GBPUSD:stale>closed", // from the server
    "EURUSD:live>stale", "GBPUSD:closed>stale", // the connection is gone: nothing is known to be live
  ]);
  assert.equal(c.book.get("EURUSD").status, "stale");
});

test("market hours and the trading day: status events carry the session times, a day roll is a day event", async () => {
  const c = client();
  const statuses = [];
  const days = [];
  const quotes = [];
  c.on("status", (s) => statuses.push([s.symbol, s.status, s.nextOpen, s.nextClose]));
  c.on("day", (q, m) => days.push([q.symbol, q.day.date, q.day.prevClose, q.change, m.ts]));
  c.on("quote", (q, ev) => quotes.push([ev.message?.type, q.change, q.changePct, q.day?.high ?? null]));
  c.subscribe("EURUSD");
  await tick();
  const ws = FakeSocket.last;
  ws.open();
  const day = { date: "2025-11-26", open: 1.1, high: 1.1005, low: 1.0995, prev_close: 1.09, change: 0.01, change_pct: 0.92, ticks: 40 };
  ws.receive([
    { type: "subscribed", id: ws.ops("subscribe")[0].id, symbols: ["EURUSD"] },
    snap("EURUSD", 1, { bid: 1.1, day, next_open: null, next_close: 1_764_370_800_000_000 }),
    { type: "update", symbol: "EURUSD", seq: 2, bid: 1.1007, ts: 2, day: { high: 1.1007 } },
    { type: "status", symbol: "EURUSD", status: "closed", ts: 3, next_open: 1_764_540_000_000_000 },
    { type: "day", symbol: "EURUSD", ts: 4, day: { ...day, date: "2025-11-27", open: null, high: null, low: null, prev_close: 1.1007, change: null, change_pct: null, ticks: 0 } },
    { type: "status", symbol: "EURUSD", status: "live", ts: 5, next_close: 1_764_975_600_000_000 },
  ]);
  assert.deepEqual(statuses, [
    ["EURUSD", "live", null, 1_764_370_800_000_000],
    ["EURUSD", "closed", 1_764_540_000_000_000, 1_764_370_800_000_000],
    ["EURUSD", "live", 1_764_540_000_000_000, 1_764_975_600_000_000],
  ]);
  assert.deepEqual(days, [["EURUSD", "2025-11-27", 1.1007, null, 4]]);
  assert.deepEqual(quotes, [
    ["snapshot", 0.01, 0.92, 1.1005], ["update", 0.0107, 0.98, 1.1007], ["status", 0.0107, 0.98, 1.1007],
    ["day", null, null, null], ["status", null, null, null],
  ]);
  assert.equal(c.book.get("EURUSD").day.date, "2025-11-27");
});

test("after a drop the client waits, reconnects, resubscribes everything and the book follows the new snapshots", async () => {
  const c = client();
  c.subscribe(["EURUSD"]);
  c.subscribe(["XAUUSD"], { throttleMs: 500 });
  const first = await serve({ EURUSD: 100, XAUUSD: 50 });
  const closes = [];
  c.on("close", (m) => closes.push(m));
  first.serverClose(1001, "server shutting down");
  assert.equal(c.state, "waiting");
  assert.deepEqual(closes, [{ type: "disconnected", local: true, code: 1001, reason: "server shutting down", retryInMs: 0 }]);
  const later = c.subscribe("GBPUSD"); // asked while disconnected
  await until(() => FakeSocket.instances.length === 2);
  const second = await serve({ EURUSD: 3, XAUUSD: 2, GBPUSD: 7 });
  assert.deepEqual(second.ops("subscribe").map((r) => [r.symbols, r.throttle_ms]), [
    [["EURUSD", "GBPUSD"], undefined],
    [["XAUUSD"], 500],
  ]);
  assert.deepEqual(await later, { symbols: ["GBPUSD"] });
  assert.equal(c.book.get("EURUSD").seq, 3); // the new server's sequence replaced the old baseline
  assert.equal(c.book.get("EURUSD").status, "live");
  assert.equal(c.stats.reconnects, 1);
});

test("the backoff restarts after a healthy connection, not after a short one", async () => {
  let now = 0;
  let made = 0;
  const c = client({
    now: () => now,
    healthyAfterMs: 5000,
    backoff: () => { made++; return zeroDelays(); },
  });
  assert.equal(made, 1);
  let ws = await serve();
  now = 1000;
  ws.serverClose(1006);
  await until(() => FakeSocket.instances.length === 2);
  assert.equal(made, 1);
  ws = await serve();
  now = 7000;
  ws.serverClose(1006);
  assert.equal(made, 2);
  await until(() => FakeSocket.instances.length === 3);
});

test("resume: after a reconnect the client says where each symbol was, once the server gave an epoch", async () => {
  const c = client();
  c.subscribe(["EURUSD", "GBPUSD"]);
  await tick();
  let ws = FakeSocket.last;
  ws.open();
  const req = ws.ops("subscribe")[0];
  ws.receive([{ type: "subscribed", id: req.id, symbols: req.symbols }, snap("EURUSD", 40, { epoch: "e1" }), snap("GBPUSD", 9)]);
  ws.receive({ type: "update", symbol: "EURUSD", seq: 41, ts: 5 });
  ws.serverClose(1006);
  await until(() => FakeSocket.instances.length === 2);
  ws = FakeSocket.last;
  ws.open();
  const [resub] = ws.ops("subscribe");
  assert.deepEqual(resub.since, { EURUSD: { seq: 41, epoch: "e1" } });
  assert.deepEqual(resub.symbols, ["EURUSD", "GBPUSD"]); // GBPUSD, without an epoch, gets a snapshot
  ws.receive([{ type: "subscribed", id: resub.id, symbols: resub.symbols }, snap("EURUSD", 50, { epoch: "e1" })]);
  c.resync(["EURUSD"]).catch(() => {}); // asking for a fresh snapshot is not a resume
  assert.equal("since" in ws.ops("subscribe")[1], false);
});

test("resume: recovered symbols keep their quote and take the replay without a gap; the others a snapshot, and a gap", async () => {
  const c = client();
  c.subscribe(["EURUSD", "GBPUSD"]);
  await tick();
  let ws = FakeSocket.last;
  ws.open();
  const [req] = ws.ops("subscribe");
  ws.receive([{ type: "subscribed", id: req.id, symbols: req.symbols }, snap("EURUSD", 40, { epoch: "e1" }), snap("GBPUSD", 9, { epoch: "e1" })]);
  ws.receive({ type: "update", symbol: "EURUSD", seq: 41, bid: 1.15, ts: 5 });
  const gaps = [], statuses = [], resumes = [], snapshots = [];
  c.on("gap", (g) => gaps.push(g));
  c.on("status", (s) => statuses.push(`${s.symbol}:${s.status}`));
  c.on("resume", (r) => resumes.push(r));
  c.on("message", (m) => m.type === "snapshot" && snapshots.push(m.symbol));
  ws.serverClose(1006);
  await until(() => FakeSocket.instances.length === 2);
  ws = FakeSocket.last;
  ws.open();
  const [resub] = ws.ops("subscribe");
  assert.deepEqual(resub.since, { EURUSD: { seq: 41, epoch: "e1" }, GBPUSD: { seq: 9, epoch: "e1" } });
  ws.receive([
    { type: "subscribed", id: resub.id, symbols: resub.symbols,
      resume: { EURUSD: { recovered: true, replayed: 2 }, GBPUSD: { recovered: false, reason: "too_old" } } },
    { type: "update", symbol: "EURUSD", seq: 42, ask: 1.25, ts: 6 },
    { type: "update", symbol: "EURUSD", seq: 43, bid: 1.16, ts: 7 },
    { type: "status", symbol: "EURUSD", status: "live", ts: 8 },
    snap("GBPUSD", 30, { epoch: "e1" }),
  ]);
  assert.deepEqual([...c.recovery], [["EURUSD", { recovered: true, replayed: 2 }], ["GBPUSD", { recovered: false, replayed: 0, reason: "too_old" }]]);
  assert.equal(resumes.length, 1);
  assert.equal(resumes[0].get("EURUSD").recovered, true);
  const q = c.book.get("EURUSD");
  assert.deepEqual([q.seq, q.bid, q.ask, q.status], [43, 1.16, 1.25, "live"]); // the old quote, carried on
  assert.deepEqual(snapshots, ["GBPUSD"]);
  assert.deepEqual(gaps, [{ symbol: "GBPUSD", from: 9, to: 30, missed: 21 }]); // only the real one
  assert.deepEqual(statuses, ["EURUSD:stale", "GBPUSD:stale", "EURUSD:live", "GBPUSD:live"]);
  // A later ack without a resume entry for a symbol clears its recovery (it was subscribed afresh).
  c.resync(["GBPUSD"]).catch(() => {});
  const fresh = ws.ops("subscribe")[1];
  ws.receive([{ type: "subscribed", id: fresh.id, symbols: ["GBPUSD"] }, snap("GBPUSD", 30, { epoch: "e1" })]);
  assert.deepEqual([...c.recovery.keys()], ["EURUSD"]);
});

test("resume: false never sends since", async () => {
  const c = client({ resume: false });
  c.subscribe(["EURUSD"]);
  await tick();
  let ws = FakeSocket.last;
  ws.open();
  ws.receive([{ type: "subscribed", id: ws.ops("subscribe")[0].id, symbols: ["EURUSD"] }, snap("EURUSD", 40, { epoch: "e1" })]);
  ws.serverClose(1006);
  await until(() => FakeSocket.instances.length === 2);
  ws = FakeSocket.last;
  ws.open();
  assert.equal("since" in ws.ops("subscribe")[0], false);
});

test("symbols refused for good are not asked for again after a reconnect", async () => {
  const c = client();
  const p = c.subscribe(["EURUSD", "NOPE"]);
  await tick();
  let ws = FakeSocket.last;
  ws.open();
  const { id } = ws.ops("subscribe")[0];
  ws.receive([{ type: "subscribed", id, symbols: ["EURUSD"] }, snap("EURUSD", 1),
    { type: "error", id, code: "unknown_symbol", message: "unknown symbol(s): NOPE", field: "symbols", symbols: ["NOPE"] }]);
  await assert.rejects(p, (e) => e instanceof TickerError && e.code === "unknown_symbol" && e.subscribed[0] === "EURUSD");
  assert.deepEqual(c.symbols, ["EURUSD"]);
  ws.serverClose(1006);
  await until(() => FakeSocket.instances.length === 2);
  ws = FakeSocket.last;
  ws.open();
  assert.deepEqual(ws.ops("subscribe")[0].symbols, ["EURUSD"]);
});

test("an error nobody waits for becomes an error event", async () => {
  const c = client();
  const ws = await serve();
  const errors = [];
  c.on("error", (e) => errors.push(e));
  ws.receive({ type: "error", code: "rate_limited", message: "over 50 messages/s: frame dropped" });
  assert.equal(errors.length, 1);
  assert.ok(errors[0] instanceof TickerError);
  assert.equal(errors[0].code, "rate_limited");
});

test("the token goes in an auth message before anything else, not in the URL", async () => {
  const c = client({ token: "k1" });
  c.subscribe("EURUSD");
  const ws = await serve();
  assert.equal(ws.url, "ws://test/ws");
  assert.deepEqual(ws.sent.map((m) => m.op), ["auth", "heartbeat", "subscribe"]);
  assert.equal(ws.sent[0].token, "k1");
});

test("tokenIn: query puts it in the URL instead", async () => {
  client({ token: "a b", tokenIn: "query" });
  const ws = await serve();
  assert.equal(ws.url, "ws://test/ws?token=a+b");
  assert.deepEqual(ws.ops("auth"), []);
});

test("a refused auth message (auth_failed, then close 1008) ends the client: one AuthError, no reconnect", async () => {
  const c = client({ token: "bad" });
  const p = c.subscribe("EURUSD");
  await tick();
  const ws = FakeSocket.last;
  ws.open();
  const errors = [];
  c.on("error", (e) => errors.push(e));
  const closed = new Promise((r) => c.on("close", r));
  ws.receive({ type: "error", id: ws.ops("auth")[0].id, code: "auth_failed", message: "unknown API key", field: "token" });
  ws.serverClose(1008, "authentication failed: unknown API key");
  const msg = await closed;
  await assert.rejects(p, AuthError);
  assert.equal(c.state, "closed");
  assert.equal(msg.retryInMs, null);
  assert.ok(msg.error instanceof AuthError);
  assert.equal(errors.length, 1);
  assert.equal(errors[0].code, "auth_failed");
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(FakeSocket.instances.length, 1);
});

test("a token sent to a server without auth is refused but the connection stays: an error, not the end", async () => {
  const c = client({ token: "unneeded" });
  const ws = await serve();
  const errors = [];
  c.on("error", (e) => errors.push(e.code));
  ws.receive({ type: "error", id: ws.ops("auth")[0].id, code: "auth_failed", message: "authentication is not enabled on this server" });
  assert.deepEqual(errors, ["auth_failed"]);
  assert.equal(c.state, "open");
});

test("an HTTP 401 named by the WebSocket implementation (Node's ws) ends the client", async () => {
  const c = client({ token: "bad", tokenIn: "query" });
  const closed = new Promise((r) => c.on("close", r));
  await tick();
  FakeSocket.last.refuse("Unexpected server response: 401");
  const msg = await closed;
  assert.equal(msg.error.code, "handshake_refused");
  assert.equal(c.state, "closed");
  assert.equal(FakeSocket.instances.length, 1);
});

test("a failed attempt with no status (server down, or a browser hiding it) is retried", async () => {
  const c = client();
  await tick();
  FakeSocket.last.refuse("");
  await until(() => FakeSocket.instances.length === 2);
  assert.equal(c.state, "connecting");
});

test("an expired token: the end with a fixed token, a fresh one from a provider", async () => {
  const fixed = client({ token: "t" });
  (await serve()).serverClose(1008, "token expired");
  assert.equal(fixed.state, "closed");

  FakeSocket.reset();
  let n = 0;
  const renewing = client({ token: async () => `t${++n}` });
  (await serve()).serverClose(1008, "token expired");
  await until(() => FakeSocket.instances.length === 2 && FakeSocket.last.readyState === 0);
  const ws = await serve();
  assert.equal(ws.ops("auth")[0].token, "t2");
  assert.equal(renewing.state, "open");
});

test("token_expiring: a provider's fresh token is sent on the open connection", async () => {
  let n = 0;
  const c = client({ token: () => `t${++n}` });
  const ws = await serve();
  const warnings = [];
  c.on("warning", (w) => warnings.push(w.code));
  ws.receive({ type: "warning", code: "token_expiring", message: "expires in 60 s", expires_at: 1 });
  await until(() => ws.ops("auth").length === 2);
  assert.equal(ws.ops("auth")[1].token, "t2");
  assert.deepEqual(warnings, ["token_expiring"]);
});

test("an unsolicited unsubscribed (a refreshed token grants less) drops the symbols for good", async () => {
  const c = client();
  c.subscribe(["EURUSD", "GBPUSD"]);
  const ws = await serve();
  ws.receive({ type: "unsubscribed", id: 99, symbols: ["GBPUSD"] });
  assert.deepEqual(c.symbols, ["EURUSD"]);
  assert.equal(c.book.has("GBPUSD"), false);
});

test("unsubscribe resolves on the server's reply; later messages for the symbol are ignored", async () => {
  const c = client();
  c.subscribe(["EURUSD", "GBPUSD"]);
  const ws = await serve();
  const p = c.unsubscribe("GBPUSD");
  const req = ws.ops("unsubscribe")[0];
  assert.deepEqual(req.symbols, ["GBPUSD"]);
  ws.receive([snap("GBPUSD", 9), { type: "update", symbol: "GBPUSD", seq: 10, ts: 1 }, { type: "unsubscribed", id: req.id, symbols: ["GBPUSD"] }]);
  assert.deepEqual(await p, { symbols: ["GBPUSD"] });
  assert.equal(c.book.has("GBPUSD"), false);
  assert.deepEqual(c.symbols, ["EURUSD"]);
});

test("ping resolves with the round trip", async () => {
  let now = 100;
  const c = client({ now: () => now });
  const ws = await serve();
  const p = c.ping();
  now = 112.5;
  ws.receive({ type: "pong", id: ws.ops("ping")[0].id, ts: 1 });
  assert.equal(await p, 12.5);
});

test("silence: pings when quiet, and a dead connection (nothing for idleTimeoutMs) is closed and replaced", async () => {
  const c = client({ pingIntervalMs: 40, idleTimeoutMs: 200 });
  const ws = await serve();
  await until(() => ws.ops("ping").length >= 1);
  await until(() => FakeSocket.instances.length === 2, 3000);
  assert.equal(ws.closedWith.code, 4000);
  assert.equal(c.state, "connecting");
});

test("heartbeats by default: asked on every connection, pings stop once the server agrees", async () => {
  const c = client({ pingIntervalMs: 40, idleTimeoutMs: 5000 });
  const ws = await serve();
  const [hb] = ws.ops("heartbeat");
  assert.equal(hb.interval_ms, 2000);
  await until(() => ws.ops("ping").length >= 1); // not agreed yet: the client still pings
  const messages = [], raw = [];
  c.on("message", (m) => messages.push(m.type));
  c.on("raw", (m) => raw.push(m.type));
  ws.receive({ type: "heartbeat", id: hb.id, interval_ms: 2000, ts: 1 });
  ws.receive({ type: "heartbeat", ts: 2 });
  assert.deepEqual([messages, raw], [[], ["heartbeat", "heartbeat"]]); // consumed: they only prove the connection alive
  assert.equal(c.stats.ignored, 0);
  const pings = ws.ops("ping").length;
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(ws.ops("ping").length, pings); // heartbeats promised: no more pings
  assert.equal(c.state, "open");
});

test("a server without heartbeats answers unknown_op: pings go on, quietly", async () => {
  const c = client({ serverHeartbeat: 1000, pingIntervalMs: 40, idleTimeoutMs: 5000 });
  const errors = [];
  c.on("error", (e) => errors.push(e));
  const ws = await serve();
  const [hb] = ws.ops("heartbeat");
  assert.equal(hb.interval_ms, 1000);
  ws.receive({ type: "error", id: hb.id, code: "unknown_op", message: "unknown op 'heartbeat'", field: "op" });
  const pings = ws.ops("ping").length;
  await until(() => ws.ops("ping").length > pings);
  assert.deepEqual(errors, []);
});

test("serverHeartbeat: false pings instead; a bad interval or factor is refused at once", async () => {
  const ws = (client({ serverHeartbeat: false }), await serve());
  assert.deepEqual(ws.ops("heartbeat"), []);
  assert.throws(() => client({ serverHeartbeat: 500 }), RangeError);
  assert.throws(() => client({ serverHeartbeat: 1500.5 }), RangeError);
  assert.throws(() => client({ silenceFactor: 1 }), RangeError);
});

test("heartbeat watchdog: silence beyond silenceFactor x the interval closes the connection; the next one resumes", async () => {
  let now = 1_000_000;
  const c = client({ now: () => now, serverHeartbeat: 1000, silenceFactor: 3, idleTimeoutMs: 60_000 });
  c.subscribe(["EURUSD"]);
  await tick();
  const ws = FakeSocket.last;
  ws.open();
  const [hb] = ws.ops("heartbeat");
  const [sub] = ws.ops("subscribe");
  ws.receive([{ type: "heartbeat", id: hb.id, interval_ms: 1000, ts: 1 }, { type: "subscribed", id: sub.id, symbols: ["EURUSD"] },
    snap("EURUSD", 7, { epoch: "e1" })]);
  const closes = [];
  c.on("close", (m) => closes.push(m));
  now += 2900; // quiet, but within 3 x 1000 ms
  const checked = () => new Promise((r) => setTimeout(r, 800)); // the client checks every 750 ms (its shortest period / 4)
  await checked();
  assert.equal(c.state, "open");
  ws.receive({ type: "heartbeat", ts: 2 }); // a heartbeat: alive
  now += 2900;
  await checked();
  assert.equal(c.state, "open");
  now += 200; // 3100 ms without anything
  await until(() => FakeSocket.instances.length === 2, 3000);
  assert.equal(ws.closedWith.code, 4000);
  assert.match(closes[0].reason, /not even a heartbeat\) for 3100 ms/);
  const next = FakeSocket.last;
  next.open();
  assert.deepEqual(next.ops("subscribe")[0].since, { EURUSD: { seq: 7, epoch: "e1" } });
});

test("close(): pending requests reject with code closed, iterators end, no reconnect", async () => {
  const c = client();
  const ws = await serve();
  const p = c.subscribe("USDJPY");
  const iter = (async () => { const got = []; for await (const m of c) got.push(m.type); return got; })();
  ws.receive({ type: "pong", ts: 1 });
  await c.close();
  await assert.rejects(p, (e) => e.code === "closed");
  assert.deepEqual(await iter, ["pong", "disconnected"]);
  assert.equal(ws.closedWith.code, 1000);
  await assert.rejects(c.subscribe("X"), (e) => e.code === "closed");
  assert.equal(FakeSocket.instances.length, 1);
});

test("throttleMs is checked before anything is sent", async () => {
  const c = client();
  await assert.rejects(c.subscribe("EURUSD", { throttleMs: 60_001 }), RangeError);
  await assert.rejects(c.subscribe("EURUSD", { throttleMs: 1.5 }), RangeError);
  assert.deepEqual(c.symbols, []);
});

// ---------------------------------------------------------------- bars

const MIN = 60_000_000;
const bar = (symbol, interval, i, seq, over = {}) => ({
  symbol, interval, start: i * MIN, end: (i + 1) * MIN, open: 1.1, high: 1.2, low: 1.0, close: 1.15, ticks: 4, seq, closed: true, ...over,
});
const barsSnap = (symbol, interval, bars) => ({ type: "bars", symbol, interval, seq: bars.at(-1)?.seq ?? 0, bars });

test("subscribeBars: one request per interval, resolved on the ack; the snapshot and bars fill the store, as events", async () => {
  const c = client();
  const ws = await serve();
  const snapshots = [], changes = [];
  c.on("bars", (e) => snapshots.push([e.symbol, e.interval, e.bars.length]));
  c.on("bar", (b, ch) => changes.push([b.interval, b.start / MIN, b.closed, ch.previous?.seq ?? null]));
  const p = c.subscribeBars(["EURUSD", "GBPUSD"], ["1m", "5m"], { history: 300, throttleMs: 100 });
  const reqs = ws.ops("subscribe");
  assert.deepEqual(reqs.map(({ id, ...r }) => r), [
    { op: "subscribe", symbols: ["EURUSD", "GBPUSD"], bars: "1m", history: 300, throttle_ms: 100 },
    { op: "subscribe", symbols: ["EURUSD", "GBPUSD"], bars: "5m", history: 300, throttle_ms: 100 },
  ]);
  for (const r of reqs) {
    ws.receive([{ type: "subscribed", id: r.id, symbols: r.symbols, bars: [r.bars], history: 300, throttle_ms: 100 },
      ...r.symbols.map((s) => barsSnap(s, r.bars, [bar(s, r.bars, 1, 5), bar(s, r.bars, 2, 6, { closed: false })]))]);
  }
  assert.deepEqual(await p, { symbols: ["EURUSD", "GBPUSD"] });
  assert.equal(snapshots.length, 4);
  ws.receive([bar("EURUSD", "1m", 2, 7, { closed: false, close: 1.16 }), bar("EURUSD", "1m", 2, 8, { close: 1.17 }),
    bar("EURUSD", "1m", 3, 9, { closed: false })].map((b) => ({ type: "bar", ...b })));
  ws.receive({ type: "bar", ...bar("EURUSD", "1m", 1, 10, { high: 1.4, corrected: true }) });
  assert.deepEqual(changes, [["1m", 2, false, 6], ["1m", 2, true, 7], ["1m", 3, false, null], ["1m", 1, true, 5]]);
  assert.deepEqual(c.bars.get("EURUSD", "1m").map((b) => [b.start / MIN, b.seq, b.closed]), [[1, 10, true], [2, 8, true], [3, 9, false]]);
  assert.deepEqual(c.barSeries, [["EURUSD", "1m"], ["EURUSD", "5m"], ["GBPUSD", "1m"], ["GBPUSD", "5m"]]);
  assert.deepEqual(c.symbols, []); // bars are not quotes
});

test("subscribeBars: unknown_interval rejects with the server's intervals, and nothing stays wanted", async () => {
  const c = client();
  const ws = await serve();
  const p = c.subscribeBars("EURUSD", "7m");
  const [req] = ws.ops("subscribe");
  ws.receive({ type: "error", id: req.id, code: "unknown_interval", message: "unknown bar interval '7m'", field: "bars", intervals: ["1m", "5m"] });
  const err = await p.catch((e) => e);
  assert.ok(err instanceof TickerError);
  assert.deepEqual([err.code, err.field, err.intervals, err.subscribed], ["unknown_interval", "bars", ["1m", "5m"], []]);
  assert.deepEqual(c.barSeries, []);
  await assert.rejects(c.subscribeBars("EURUSD", "1m", { history: -1 }), RangeError);
  await assert.rejects(c.subscribeBars("EURUSD", []), RangeError);
});

test("subscribeBars: an unknown symbol is refused with its name, the others subscribed; its quotes are not asked either", async () => {
  const c = client();
  c.subscribe(["EURUSD"]);
  const ws = await serve();
  const p = c.subscribeBars(["EURUSD", "NOPE"], "1m");
  const req = ws.ops("subscribe").find((r) => r.bars);
  ws.receive([{ type: "subscribed", id: req.id, symbols: ["EURUSD"], bars: ["1m"] }, barsSnap("EURUSD", "1m", [bar("EURUSD", "1m", 1, 1)]),
    { type: "error", id: req.id, code: "unknown_symbol", message: "unknown symbol(s): NOPE", field: "symbols", symbols: ["NOPE"] }]);
  const err = await p.catch((e) => e);
  assert.deepEqual([err.code, err.symbols, err.subscribed], ["unknown_symbol", ["NOPE"], ["EURUSD"]]);
  assert.deepEqual(c.barSeries, [["EURUSD", "1m"]]);
  assert.deepEqual(c.symbols, ["EURUSD"]); // the quote subscription is untouched
});

test("after a reconnect every bar series is asked again with its history, and its fresh snapshot replaces it", async () => {
  const c = client();
  c.subscribeBars("EURUSD", "1m", { history: 50 });
  c.subscribe("EURUSD");
  let ws = await serve();
  let req = ws.ops("subscribe").find((r) => r.bars);
  ws.receive([{ type: "subscribed", id: req.id, symbols: ["EURUSD"], bars: ["1m"] }, barsSnap("EURUSD", "1m", [bar("EURUSD", "1m", 1, 1), bar("EURUSD", "1m", 2, 2)])]);
  ws.serverClose(1006);
  await until(() => FakeSocket.instances.length === 2);
  assert.equal(c.bars.get("EURUSD", "1m").length, 2); // kept while away
  ws = await serve({ EURUSD: 1 });
  req = ws.ops("subscribe").find((r) => r.bars);
  assert.deepEqual(({ ...req, id: 0 }), { op: "subscribe", symbols: ["EURUSD"], bars: "1m", history: 50, id: 0 });
  ws.receive([{ type: "subscribed", id: req.id, symbols: ["EURUSD"], bars: ["1m"] },
    barsSnap("EURUSD", "1m", [bar("EURUSD", "1m", 2, 9), bar("EURUSD", "1m", 3, 10), bar("EURUSD", "1m", 4, 11, { closed: false })])]);
  assert.deepEqual(c.bars.get("EURUSD", "1m").map((b) => b.start / MIN), [2, 3, 4]);
  assert.equal(c.recovery.size, 0); // a bar ack is not a resume
});

test("unsubscribeBars ends only those series; an unasked unsubscribed with bars drops series, not quotes", async () => {
  const c = client();
  c.subscribe("EURUSD");
  c.subscribeBars(["EURUSD", "GBPUSD"], ["1m", "1h"]);
  const ws = await serve();
  for (const r of ws.ops("subscribe").filter((r) => r.bars)) {
    ws.receive([{ type: "subscribed", id: r.id, symbols: r.symbols, bars: [r.bars] }, ...r.symbols.map((s) => barsSnap(s, r.bars, []))]);
  }
  const p = c.unsubscribeBars("EURUSD", ["1h", "5m"]);
  const [un] = ws.ops("unsubscribe");
  assert.deepEqual([un.symbols, un.bars], [["EURUSD"], ["1h"]]); // only what was wanted
  assert.equal(c.bars.has("EURUSD", "1h"), false); // late bars for it are dropped from now on
  ws.receive({ type: "unsubscribed", id: un.id, symbols: ["EURUSD"], bars: ["1h"] });
  assert.deepEqual(await p, { symbols: ["EURUSD"] });
  ws.receive({ type: "unsubscribed", id: 99, symbols: ["GBPUSD"], bars: ["1m", "1h"] }); // a refreshed token grants less
  assert.deepEqual(c.barSeries, [["EURUSD", "1m"]]);
  assert.deepEqual(c.symbols, ["EURUSD"]);
  assert.equal(c.book.has("EURUSD"), true);
});

test("without any WebSocket the client says what to pass", () => {
  assert.throws(() => connect("ws://x/ws"), /WebSocket.*ws package/);
});
