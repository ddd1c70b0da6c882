// fetchBars against a scripted fetch: the URL it builds, the token, the errors it turns into TickerErrors.
import assert from "node:assert/strict";
import { test } from "node:test";
import { AuthError, TickerError, fetchBars } from "../../dist/index.js";

function scripted(status, body) {
  const calls = [];
  const fetch = async (url, init) => {
    calls.push({ url: String(url), headers: init.headers });
    return { ok: status < 400, status, json: async () => (typeof body === "string" ? JSON.parse(body) : body) };
  };
  return { fetch, calls };
}

const reply = { symbol: "EURUSD", interval: "1m", seq: 12, bars: [{ symbol: "EURUSD", interval: "1m", start: 0, seq: 12 }] };

test("api/bars is found next to the WebSocket URL (a proxy prefix kept) or under an HTTP base", async () => {
  const { fetch, calls } = scripted(200, reply);
  assert.deepEqual(await fetchBars("wss://h.test/desk/ws", { symbol: "EURUSD", interval: "1m", count: 500, fetch }), reply);
  await fetchBars("http://127.0.0.1:8080", { symbol: "XAUUSD", interval: "1h", from: new Date(Date.UTC(2024, 2, 11)),
    to: "2024-03-12T00:00:00Z", token: "k1", fetch });
  assert.equal(calls[0].url, "https://h.test/desk/api/bars?symbol=EURUSD&interval=1m&count=500");
  assert.deepEqual(calls[0].headers, {});
  const u = new URL(calls[1].url);
  assert.equal(u.origin + u.pathname, "http://127.0.0.1:8080/api/bars");
  assert.equal(u.searchParams.get("from"), String(Date.UTC(2024, 2, 11) * 1000)); // µs since the epoch
  assert.equal(u.searchParams.get("to"), "2024-03-12T00:00:00Z");
  assert.equal(u.searchParams.has("count"), false);
  assert.deepEqual(calls[1].headers, { Authorization: "Bearer k1" });
});

test("the server's JSON errors become TickerErrors with its code, field and intervals", async () => {
  const bad = scripted(400, { error: { code: "unknown_interval", message: "unknown bar interval '7m'", field: "interval", intervals: ["1m", "5m"] } });
  const err = await fetchBars("http://h/", { symbol: "EURUSD", interval: "7m", fetch: bad.fetch }).catch((e) => e);
  assert.ok(err instanceof TickerError);
  assert.deepEqual([err.code, err.field, err.intervals], ["unknown_interval", "interval", ["1m", "5m"]]);
  const denied = scripted(401, { error: { code: "unauthenticated", message: "a token is required" } });
  assert.ok((await fetchBars("http://h/", { symbol: "EURUSD", interval: "1m", fetch: denied.fetch }).catch((e) => e)) instanceof AuthError);
});

test("an answer without a JSON error (a proxy's page) is http_<status>", async () => {
  const { fetch } = scripted(502, "not json");
  const err = await fetchBars("http://h/", { symbol: "EURUSD", interval: "1m", fetch }).catch((e) => e);
  assert.equal(err.code, "http_502");
});
