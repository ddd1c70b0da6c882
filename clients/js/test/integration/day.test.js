// Market hours and the trading day against a real server: the book's day and change
// agree with the server's own snapshots, a symbol on a shut calendar is closed with its
// next open, and a day roll on the wall clock reaches the book as a `day` event.
//
// The calendars are in a fixed-offset zone where it is about noon now (so nothing here
// crosses midnight): the feed's rolls its trading day a few seconds after the server
// starts; USDCHF's is shut from 01:00 to 23:00 there.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { WebSocket } from "ws";
import { connect } from "../../dist/index.js";
import { next, sleep, startServer } from "../server.js";

const SYMBOLS = ["EURUSD", "USDJPY", "XAUUSD", "USDCHF"];
let server;
let zone;
let offsetH;
let rollAt; // ms since the epoch
const clients = [];
const open = () => {
  const c = connect(server.url, { WebSocket });
  clients.push(c);
  return c;
};

/** A zone where it is about noon now, and its offset from UTC in hours. */
function middayZone(now) {
  let offset = (12 - now.getUTCHours() + 24) % 24;
  if (offset > 12) offset -= 24;
  return [offset ? `Etc/GMT${offset > 0 ? "-" : "+"}${Math.abs(offset)}` : "Etc/GMT", offset]; // Etc/ signs are inverted
}

const wallTime = (ms) => new Date(ms + offsetH * 3_600_000).toISOString().slice(11, 19); // HH:MM:SS in the zone

before(async () => {
  const now = Date.now();
  [zone, offsetH] = middayZone(new Date(now));
  rollAt = Math.ceil((now + 12_000) / 1000) * 1000; // after start-up, before the test gives up waiting
  const days = '["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]';
  server = await startServer({
    toml:
      `symbols = ${JSON.stringify(SYMBOLS)}\ncalendar = "rolling"\n` + // the synthetic feed's table
      `[market]\nsymbols = { USDCHF = "shut" }\n` +
      `[market.calendars.rolling]\ntz = "${zone}"\nroll = "${wallTime(rollAt)}"\ntrading_days = ${days}\nholidays = []\nbreaks = []\n` +
      `[market.calendars.shut]\ntz = "${zone}"\nroll = "00:00"\ntrading_days = ${days}\nholidays = []\nbreaks = ["01:00-23:00"]\n`,
  });
});
after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await server?.stop();
});

async function serverSnapshot(symbol) {
  const resp = await fetch(`${server.base}/api/snapshot?symbols=${symbol}`);
  return (await resp.json()).snapshots[0];
}

/** Poll until the book and the server's snapshot are at the same seq; then they must agree. */
async function agreeWithServer(c, symbol) {
  for (let attempt = 0; attempt < 80; attempt++) {
    const srv = await serverSnapshot(symbol);
    const q = c.book.get(symbol);
    if (q?.seq === srv.seq && srv.day?.open != null) {
      const d = srv.day;
      assert.deepEqual(q.day, { date: d.date, open: d.open, high: d.high, low: d.low, prevClose: d.prev_close, ticks: q.day.ticks });
      assert.ok(q.day.ticks <= d.ticks); // updates do not count ticks: as of the snapshot
      assert.deepEqual([q.bid, q.change, q.changePct], [srv.bid, d.change, d.change_pct], `${symbol} at seq ${srv.seq}`);
      assert.ok(d.change !== null, "the synthetic feed gives a previous close: the change shows from the first tick");
      assert.deepEqual([q.nextOpen, q.nextClose], [srv.next_open, srv.next_close]);
      return srv;
    }
    await sleep(attempt % 2 ? 3 : 37); // catch the book and the server between two ticks
  }
  assert.fail(`never caught the book and the server at the same seq for ${symbol}`);
}

test("the book's day and change agree with the server's snapshot at the same seq", async () => {
  const c = open();
  await c.subscribe(["EURUSD", "USDJPY", "XAUUSD"]);
  for (const symbol of ["EURUSD", "USDJPY", "XAUUSD"]) await agreeWithServer(c, symbol);
});

test("a symbol whose market is shut is closed, with its next open (23:00 in its zone)", async () => {
  const c = open();
  const status = next(c, "status", (s) => s.symbol === "USDCHF");
  await c.subscribe("USDCHF");
  const s = await status;
  const local = new Date(Date.now() + offsetH * 3_600_000);
  const opens = Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate(), 23 - offsetH) * 1000;
  assert.deepEqual([s.status, s.nextOpen], ["closed", opens]);
  const q = c.book.get("USDCHF");
  assert.deepEqual([q.status, q.nextOpen, q.bid, q.day, q.change], ["closed", opens, null, null, null]); // no tick while shut
  const listed = (await (await fetch(`${server.base}/api/symbols`)).json()).symbols.find((x) => x.symbol === "USDCHF");
  assert.deepEqual([listed.market_open, listed.next_open], [false, opens]);
});

test("the trading day rolls on the wall clock: a day event, no change until the new day's first tick, then agreement", async () => {
  const c = open();
  await c.subscribe(["EURUSD", "USDJPY"]);
  await next(c, "quote", (q) => q.symbol === "EURUSD" && q.day !== null);
  const before = c.book.get("EURUSD").day;
  const lastBids = {};
  const rolled = [];
  c.on("quote", (q, ev) => ev.message?.type !== "day" && q.day?.date === before.date && (lastBids[q.symbol] = q.bid));
  c.on("day", (q, m) => rolled.push([q.symbol, q.day, q.change, m.ts]));
  assert.ok(Date.now() < rollAt, "the server started too late to see its roll");
  const [q, m] = await next(c, "day", (dq) => dq.symbol === "EURUSD", rollAt - Date.now() + 15_000);
  assert.equal(m.ts, rollAt * 1000); // when the new day began, µs
  assert.notEqual(q.day.date, before.date);
  assert.equal(q.day.prevClose, lastBids.EURUSD); // the old day's last bid closes it
  if (q.day.ticks === 0) {
    // The timer rolled it (the usual case): nothing traded in the new day yet, so no change (the server's is null too).
    assert.deepEqual([q.day.open, q.day.high, q.day.low, q.change, q.changePct], [null, null, null, null, null]);
  } else {
    // A tick stamped after the roll got in before the timer: the day message already holds it.
    assert.equal(q.day.ticks, 1);
    assert.ok(q.day.open !== null && q.day.open === q.day.high && q.day.open === q.day.low);
  }
  // The first tick of the new day brings its open, and the change is back, as the server computes it.
  const [first] = await next(c, "quote", (fq) => fq.symbol === "EURUSD" && fq.day?.open != null);
  assert.equal(first.day.date, q.day.date);
  assert.ok(first.change !== null && first.changePct !== null);
  await agreeWithServer(c, "EURUSD");
  assert.ok(rolled.some(([s]) => s === "USDJPY"), "every symbol with a day rolls");
});
