// A server with [auth] on and one API key (made by `ticker new-api-key`) entitled to EUR*.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { after, before, test } from "node:test";
import { WebSocket } from "ws";
import { AuthError, TickerError, connect } from "../../dist/index.js";
import { TICKER, next, sleep, startServer } from "../server.js";

let server;
let key;
const clients = [];

/** The ws package's WebSocket, counting connection attempts. */
function counting() {
  const made = { count: 0 };
  class Counted extends WebSocket {
    constructor(...args) {
      super(...args);
      made.count++;
    }
  }
  return { made, WebSocket: Counted };
}

function open(options) {
  const c = connect(server.url, { WebSocket, backoff: () => (function* () { for (;;) yield 50; })(), ...options });
  clients.push(c);
  return c;
}

before(async () => {
  // `ticker new-api-key` prints the key on stderr and the config entry (its hash) on stdout.
  const made = spawnSync(TICKER, ["new-api-key", "--name", "desk", "--symbols", "EUR*"], { encoding: "utf8" });
  assert.equal(made.status, 0, made.stderr);
  key = made.stderr.trim().split("\n").at(-1);
  server = await startServer({ toml: `[auth]\nenabled = true\n${made.stdout}` });
});
after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await server?.stop();
});

test("a good key in the auth message: authenticated, entitled symbols stream, others are not_entitled", async () => {
  const c = open({ token: key });
  const hello = await next(c, "authenticated");
  assert.equal(hello.identity, "key:desk");
  assert.deepEqual(await c.subscribe("EURUSD"), { symbols: ["EURUSD"] });
  await next(c, "quote", (q, ev) => q.symbol === "EURUSD" && ev.message?.type === "update");
  const err = await c.subscribe(["EURJPY", "GBPUSD"]).then(() => null, (e) => e);
  assert.equal(err.code, "not_entitled");
  assert.deepEqual(err.symbols, ["GBPUSD"]);
  assert.deepEqual(err.subscribed, ["EURJPY"]);
  assert.deepEqual(c.symbols, ["EURUSD", "EURJPY"]);
});

test("a good key in the URL works too", async () => {
  const c = open({ token: key, tokenIn: "query" });
  assert.deepEqual(await c.subscribe("EURGBP"), { symbols: ["EURGBP"] });
});

test("a bad key in the auth message: one AuthError, the client closes, no reconnect", async () => {
  const { made, WebSocket: Counted } = counting();
  const c = open({ token: "not-a-key", WebSocket: Counted });
  const errors = [];
  c.on("error", (e) => errors.push(e));
  const pending = c.subscribe("EURUSD");
  const bye = await next(c, "close");
  assert.equal(bye.code, 1008);
  assert.ok(bye.error instanceof AuthError);
  await assert.rejects(pending, AuthError);
  assert.equal(c.state, "closed");
  await sleep(1000); // backoff here is 50 ms: a client that retried would have by now
  assert.equal(made.count, 1);
  assert.equal(errors.length, 1);
  assert.equal(errors[0].code, "auth_failed");
});

test("a bad key in the URL: the handshake's 401 ends the client, no reconnect", async () => {
  const { made, WebSocket: Counted } = counting();
  const c = open({ token: "not-a-key", tokenIn: "query", WebSocket: Counted });
  const bye = await next(c, "close");
  assert.equal(bye.error.code, "handshake_refused");
  assert.match(bye.error.message, /401/);
  await sleep(1000);
  assert.equal(made.count, 1);
  assert.equal(c.state, "closed");
});

test("no token on a server that wants one: requests reject with unauthenticated", async () => {
  const c = open({});
  const err = await c.subscribe("EURUSD").then(() => null, (e) => e);
  assert.ok(err instanceof AuthError);
  assert.ok(err instanceof TickerError);
  assert.equal(err.code, "unauthenticated");
});
