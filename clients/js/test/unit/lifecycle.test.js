import assert from "node:assert/strict";
import { test } from "node:test";
import { AuthError, IllegalTransition, Lifecycle, verdict } from "../../dist/index.js";

test("the connection moves only along the allowed transitions", () => {
  const life = new Lifecycle();
  for (const s of ["connecting", "waiting", "connecting", "open", "waiting", "connecting", "open", "closed"]) life.to(s, "test");
  assert.equal(life.opened, 2);
  assert.throws(() => life.to("connecting", "late retry"), (e) => e instanceof IllegalTransition && /closed -> connecting.*late retry/.test(e.message));
  assert.throws(() => new Lifecycle().to("open", "x"), IllegalTransition);
});

const ending = (over) => ({ code: 1006, reason: "", opened: true, authRefused: false, errorText: "", renewableToken: false, ...over });

test("drops, restarts, slow-consumer and rate-limit closes are retried", () => {
  for (const e of [
    ending({}),
    ending({ code: 1001, reason: "server shutting down" }),
    ending({ code: 1013, reason: "slow consumer: 5 s behind" }),
    ending({ code: 1008, reason: "rate limit: 100 messages over 50/s were dropped" }),
    ending({ code: null, opened: false, errorText: "connect ECONNREFUSED 127.0.0.1:1" }),
    ending({ code: 1006, opened: false, errorText: "Unexpected server response: 503" }),
  ]) {
    assert.equal(verdict(e), null, JSON.stringify(e));
  }
});

test("a refused token ends the client with an AuthError, however the refusal shows", () => {
  const cases = [
    [ending({ code: 1008, reason: "authentication failed: unknown API key", authRefused: true }), "auth_failed"],
    [ending({ code: 1008, reason: "", authRefused: true }), "auth_failed"],
    [ending({ code: 1008, reason: "authentication required: no auth message within 10 s" }), "unauthenticated"],
    [ending({ code: 1008, reason: "token expired" }), "auth_failed"],
    [ending({ code: 1006, opened: false, errorText: "Unexpected server response: 401" }), "handshake_refused"],
    [ending({ code: 1006, opened: false, errorText: "Unexpected server response: 403" }), "handshake_refused"],
  ];
  for (const [e, code] of cases) {
    const err = verdict(e);
    assert.ok(err instanceof AuthError, JSON.stringify(e));
    assert.equal(err.code, code);
  }
});

test("a refused token refresh earlier does not make a later policy close an auth failure", () => {
  // The server keeps a connection whose refresh failed; a rate-limit close later is just a close.
  assert.equal(verdict(ending({ code: 1008, reason: "rate limit: 100 messages over 50/s were dropped", authRefused: true })), null);
});

test("an expired token is retried when a provider can hand out a fresh one", () => {
  assert.equal(verdict(ending({ code: 1008, reason: "token expired", renewableToken: true })), null);
});
