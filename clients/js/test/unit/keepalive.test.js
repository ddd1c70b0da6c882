import assert from "node:assert/strict";
import { test } from "node:test";
import { Keepalive } from "../../dist/index.js";

test("a quiet connection is pinged once per interval; traffic postpones the ping", () => {
  const k = new Keepalive(1000, 3500);
  k.reset(0);
  assert.equal(k.due(999), null);
  assert.equal(k.due(1000), "ping");
  assert.equal(k.due(1500), null); // the ping is out, its pong will count as traffic
  k.received(1600);
  assert.equal(k.due(2500), null);
  assert.equal(k.due(2600), "ping");
});

test("nothing received for the idle timeout: the connection is dead", () => {
  const k = new Keepalive(1000, 3500);
  k.reset(0);
  k.due(1000);
  k.due(2000);
  k.due(3000);
  assert.equal(k.due(3500), "dead");
});

test("pings go on until the server agrees to heartbeats; then silence beyond the limit is a dead connection", () => {
  const k = new Keepalive(1000, 35_000);
  k.reset(0);
  assert.equal(k.due(1000), "ping"); // asked for heartbeats, not agreed yet: still pinging
  k.received(1100); // the heartbeat reply
  k.heartbeats(2500); // 2.5 x a 1000 ms interval
  assert.equal(k.due(2100), null); // no ping once heartbeats are promised
  assert.equal(k.due(3599), null);
  k.received(3000); // a heartbeat (or any data) moves the deadline
  assert.equal(k.due(5499), null);
  assert.equal(k.due(5500), "dead"); // long before the 35 s idle timeout
  assert.equal(k.quietFor(5500), 2500);
});

test("a server that refuses heartbeats is pinged again; a new connection must agree again", () => {
  const k = new Keepalive(1000, 3500);
  k.reset(0);
  k.heartbeats(2500);
  k.heartbeats(0); // unknown_op
  assert.equal(k.due(1000), "ping");
  k.heartbeats(2500);
  k.reset(4000);
  assert.equal(k.silenceMs, 0);
  assert.equal(k.due(5000), "ping");
});

test("zero turns each part off", () => {
  const k = new Keepalive(0, 0);
  k.reset(0);
  assert.equal(k.due(1e9), null);
});
