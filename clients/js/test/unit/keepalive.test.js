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

test("with server heartbeats the client only watches for silence", () => {
  const k = new Keepalive(1000, 3500);
  k.reset(0);
  k.serverHeartbeats = true;
  assert.equal(k.due(3000), null);
  assert.equal(k.due(3500), "dead");
  k.reset(4000); // a new connection starts without them until the server agrees again
  assert.equal(k.serverHeartbeats, false);
});

test("zero turns each part off", () => {
  const k = new Keepalive(0, 0);
  k.reset(0);
  assert.equal(k.due(1e9), null);
});
