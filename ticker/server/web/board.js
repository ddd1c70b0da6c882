// The quote board: DOM around ticker-client, the JavaScript SDK (./sdk/, built
// from clients/js). The SDK keeps the connection (reconnect with backoff,
// resume where it left off, heartbeats), the quote book, the bars and the
// errors; this file draws. The candle chart (./chart.js) runs on the same
// client: one connection for the page.
import { connect } from "./sdk/index.js";
import {
  changeText, direction, formatAge, formatLatency, formatOpens, priceText, signedFixed, spreadPips, splitPrice, websocketUrl,
} from "./quotes.js";

const DEFAULT_SYMBOLS = ["EURUSD", "GBPUSD", "USDJPY", "USDCHF", "AUDUSD", "USDCAD", "NZDUSD", "XAUUSD"];
const STORAGE_KEY = "ticker.board.symbols";
const NOTICE_MS = 15000;

const params = new URLSearchParams(location.search);
const token = params.get("token") || undefined;
const wsPath = document.querySelector('meta[name="ticker-ws-path"]')?.content || "/ws";
const wsUrl = websocketUrl(location, wsPath);

const $ = (sel) => document.querySelector(sel);
const rowsEl = $("#rows");
const connEl = $("#conn");
const noticesEl = $("#notices");
const pickerEl = $("#picker-input");
const footEl = $("#foot");

const instruments = new Map(); // symbol -> GET /api/symbols entry: {decimals, pip_size, description, derived, formula, …}
const rows = new Map(); // symbol -> {tr, cells, lastAt, latencyMs, shownStatus}
let symbols = initialSymbols();
let client = null;
let retryTimer = 0;
let updatesSeen = 0;
let dirty = new Set();
let frameScheduled = false;

function initialSymbols() {
  const fromUrl = params.get("symbols");
  if (fromUrl) return [...new Set(fromUrl.split(",").map((s) => s.trim().toUpperCase()).filter(Boolean))];
  try {
    const saved = JSON.parse(localStorage.getItem(STORAGE_KEY) || "null");
    if (Array.isArray(saved) && saved.every((s) => typeof s === "string")) return saved;
  } catch { /* unreadable storage: use the defaults */ }
  return [...DEFAULT_SYMBOLS];
}

function saveSymbols() {
  try { localStorage.setItem(STORAGE_KEY, JSON.stringify(symbols)); } catch { /* private mode */ }
}

// ---------------------------------------------------------------- connection

function setConn(state, text) {
  clearTimeout(retryTimer);
  connEl.dataset.state = state;
  connEl.textContent = text;
}

function start() {
  try {
    client = connect(wsUrl, { token });
  } catch (err) {
    notice("error", "bad_url", `cannot open ${wsUrl}: ${err.message}`);
    setConn("failed", "cannot connect");
    return;
  }
  client.on("state", (state) => state === "connecting" && setConn("connecting", "connecting…"));
  client.on("open", () => setConn("live", "live"));
  client.on("close", closed);
  client.on("quote", quoteChanged);
  client.on("error", refused);
  client.on("warning", (w) => notice("warning", w.code, w.message));
  client.on("resume", resumed);
  if (symbols.length) client.subscribe(symbols).catch(refused);
  // The chart and its library load after the board is live, and a chart that fails cannot stop it.
  const section = document.getElementById("chart");
  if (section) {
    import("./chart.js")
      .then(({ startChart }) => startChart(section, client, { decimals: (s) => instruments.get(s)?.decimals }))
      .catch((err) => notice("error", "chart", `the chart could not start: ${err.message}`));
  }
}

/** Back after a drop: say whether the rows carried on without a gap (the SDK resumed them). */
function resumed(results) {
  const all = [...results];
  const lost = all.filter(([, r]) => !r.recovered).map(([s, r]) => `${s} (${r.reason})`);
  const ok = all.length - lost.length;
  if (lost.length) {
    notice("warning", "resume", `${ok} of ${all.length} symbols resumed without a gap; fresh snapshots for ${lost.join(", ")}`);
  } else {
    const replayed = all.reduce((n, [, r]) => n + r.replayed, 0);
    notice("info", "resumed", `resumed ${ok} of ${all.length} symbols without a gap (${replayed} missed updates replayed)`);
  }
}

/** The connection dropped: say why and count down to the SDK's next attempt. */
function closed({ code, reason, retryInMs, error }) {
  if (retryInMs === null) {
    // Closed for good: the server refused the token (AuthError), or the page closed it.
    setConn("failed", error ? `${error.code}: ${error.message}` : "closed");
    return;
  }
  const why = code === 1006 || !code ? "connection failed" : `closed ${code}${reason ? `: ${reason}` : ""}`;
  const until = Date.now() + retryInMs;
  const tick = () => {
    const left = Math.max(0, (until - Date.now()) / 1000);
    setConn("reconnecting", `${why} · retrying in ${left.toFixed(1)} s`);
    if (left > 0) retryTimer = setTimeout(tick, Math.min(250, left * 1000));
  };
  tick();
}

/** An error from the server or the SDK; symbols refused for good lose their rows. */
function refused(err) {
  if (err.code === "unknown_symbol" || err.code === "not_entitled") {
    for (const s of err.symbols || []) removeSymbol(s);
  }
  notice("error", err.code, err.message);
}

function quoteChanged(q, change) {
  const row = rows.get(q.symbol);
  if (!row) return; // removed meanwhile
  const type = change.message?.type;
  if (type === "update") {
    updatesSeen += 1;
    row.latencyMs = change.latencyMs;
    row.lastAt = Date.now();
    moved(row, "bid", change.previous.bid, q.bid);
    moved(row, "ask", change.previous.ask, q.ask);
  } else if (type === "snapshot" && q.ts) {
    row.lastAt = Date.now() - Math.max(0, change.receivedAt - q.ts / 1000);
  }
  dirty.add(q.symbol);
  schedule();
}

// ---------------------------------------------------------------- rendering

function schedule() {
  if (frameScheduled) return;
  frameScheduled = true;
  requestAnimationFrame(render);
}

function render() {
  frameScheduled = false;
  const todo = dirty;
  dirty = new Set();
  for (const sym of todo) {
    const row = rows.get(sym);
    if (row) paint(row, client?.book.get(sym));
  }
}

/**
 * Show a price in its cell as big figure, pips and pipette, reusing the three spans;
 * returns the spans whose digits changed (what a flash should light up).
 */
function priceHtml(el, price, inst) {
  if (price == null || !inst) {
    el.replaceChildren();
    el.textContent = price == null ? "—" : String(price);
    return [];
  }
  let spans = el.querySelectorAll("span");
  if (spans.length !== 3) {
    el.replaceChildren();
    for (const cls of ["big", "pips", "pipette"]) {
      const span = document.createElement("span");
      span.className = cls;
      el.append(span);
    }
    spans = el.querySelectorAll("span");
  }
  const changed = [];
  splitPrice(price, inst.decimals, inst.pip_size).forEach((text, i) => {
    if (spans[i].textContent !== text) {
      spans[i].textContent = text;
      changed.push(spans[i]);
    }
  });
  return changed;
}

function paint(row, q) {
  const c = row.cells;
  if (!q) return;
  const inst = instruments.get(row.symbol);
  flash(row, "bid", priceHtml(c.bid, q.bid, inst));
  flash(row, "ask", priceHtml(c.ask, q.ask, inst));
  const both = q.bid != null && q.ask != null;
  c.spread.textContent = both && inst ? spreadPips(q.bid, q.ask, inst.pip_size).toFixed(1) : "—";
  // The trading day, as the SDK keeps it: change and change % of the bid against the
  // previous close (computed as the server does), the day's high and low.
  c.chg.textContent = changeText(q.change, inst?.decimals);
  c.pct.textContent = q.changePct == null ? "—" : `${signedFixed(q.changePct, 2)}%`;
  c.chg.dataset.dir = c.pct.dataset.dir = direction(q.change);
  c.high.textContent = priceText(q.day?.high, inst?.decimals);
  c.low.textContent = priceText(q.day?.low, inst?.decimals);
  paintStatus(row, q);
  row.tr.dataset.seq = q.seq;
}

/** The status cell: the status, or for a closed market a "closed" tag and when it opens (local time). */
function paintStatus(row, q) {
  const opens = q.status === "closed" && q.nextOpen ? formatOpens(q.nextOpen, Date.now()) : "";
  const shown = `${q.status} ${opens}`;
  if (row.shownStatus === shown) return;
  row.shownStatus = shown;
  row.tr.dataset.status = q.status;
  const cell = row.cells.status;
  if (q.status !== "closed") {
    cell.textContent = q.status;
    cell.title = "";
    return;
  }
  const tag = document.createElement("span");
  tag.className = "tag";
  tag.textContent = "closed";
  cell.replaceChildren(tag);
  if (opens) {
    const when = document.createElement("span");
    when.className = "opens";
    when.textContent = `opens ${opens}`;
    cell.append(" ", when);
  }
  cell.title = q.nextOpen ? `market closed; opens ${new Date(q.nextOpen / 1000).toString()}` : "market closed";
}

const css = getComputedStyle(document.documentElement);
const FLASH = { up: css.getPropertyValue("--up-flash").trim(), down: css.getPropertyValue("--down-flash").trim() };

// A price cell flashes at most this often: at 60 updates/s a flash per update would
// turn the grid into a colour field; the colour of the digits still follows every move.
const FLASH_EVERY_MS = 400;

/** A price moved: remember which way, for the next paint. */
function moved(row, side, before, after) {
  if (before == null || after == null || before === after) return;
  row.dir[side] = after > before ? "up" : "down";
}

/** Light up the digits that changed (only those), in the direction of the move, rate-limited. */
function flash(row, side, changed) {
  const dir = row.dir[side];
  if (!dir || !changed.length) return;
  const el = row.cells[side];
  el.dataset.dir = dir; // keeps the price coloured by its last move
  const now = performance.now();
  if (now - (row.flashedAt[side] ?? -Infinity) < FLASH_EVERY_MS) return;
  row.flashedAt[side] = now;
  for (const span of changed) {
    span.animate([{ backgroundColor: FLASH[dir] }, { backgroundColor: "transparent" }], {
      duration: 500,
      easing: "ease-out",
    });
  }
}

function refreshClocks() {
  const now = Date.now();
  for (const row of rows.values()) {
    row.cells.age.textContent = row.lastAt ? formatAge((now - row.lastAt) / 1000) : "—";
    row.cells.latency.textContent = row.latencyMs != null ? formatLatency(row.latencyMs) : "—";
  }
  const elapsed = (now - rateSince.at) / 1000;
  if (elapsed >= 1) {
    const rate = (updatesSeen - rateSince.count) / elapsed;
    footEl.textContent = `${rows.size} symbols · ${rate.toFixed(0)} updates/s · ` +
      `${client?.book.stats.gaps ?? 0} merged or missed (seq gaps) · ${wsUrl}`;
    rateSince.at = now;
    rateSince.count = updatesSeen;
  }
}
const rateSince = { at: Date.now(), count: 0 };

// ---------------------------------------------------------------- symbols

function addRow(sym) {
  const tr = document.createElement("tr");
  tr.dataset.symbol = sym;
  tr.dataset.status = "pending";
  const cells = {};
  const make = (name) => {
    const td = document.createElement("td");
    td.className = name;
    tr.append(td);
    cells[name] = td;
    return td;
  };
  const symTd = make("symbol");
  const name = document.createElement("div");
  name.className = "name";
  name.textContent = sym;
  const desc = document.createElement("div");
  desc.className = "desc";
  symTd.append(name, desc);
  for (const n of ["bid", "ask", "spread", "chg", "pct", "high", "low", "age", "latency", "status"]) make(n).textContent = "—";
  cells.status.textContent = "pending";
  const btn = document.createElement("button");
  btn.className = "remove";
  btn.title = `Remove ${sym}`;
  btn.setAttribute("aria-label", `Remove ${sym}`);
  btn.textContent = "×";
  btn.onclick = () => removeSymbol(sym);
  make("actions").replaceChildren(btn);
  rowsEl.append(tr);
  const row = { symbol: sym, tr, cells, lastAt: 0, latencyMs: null, dir: {}, flashedAt: {}, shownStatus: "" };
  rows.set(sym, row);
  describe(row);
}

/** The symbol cell's second line, and a badge for a derived cross with its formula (GET /api/symbols). */
function describe(row) {
  const inst = instruments.get(row.symbol);
  row.tr.querySelector(".desc").textContent = inst?.description || "";
  const name = row.tr.querySelector(".name");
  name.replaceChildren(row.symbol);
  if (inst?.derived) {
    const badge = document.createElement("span");
    badge.className = "badge cross";
    badge.textContent = "cross";
    badge.title = `derived: ${inst.formula}`;
    badge.setAttribute("aria-label", `derived cross: ${inst.formula}`);
    name.append(" ", badge);
  }
}

function addSymbol(raw) {
  const sym = raw.trim().toUpperCase();
  if (!sym) return;
  if (instruments.size && !instruments.has(sym)) {
    notice("error", "unknown_symbol", `${sym} is not served here; pick one from the list`);
    return;
  }
  if (rows.has(sym)) return;
  symbols.push(sym);
  saveSymbols();
  addRow(sym);
  refreshPicker();
  client?.subscribe(sym).catch(refused);
}

function removeSymbol(sym) {
  const row = rows.get(sym);
  if (!row) return;
  row.tr.remove();
  rows.delete(sym);
  symbols = symbols.filter((s) => s !== sym);
  saveSymbols();
  refreshPicker();
  client?.unsubscribe(sym).catch(() => {}); // nothing to do if the connection drops meanwhile
}

function refreshPicker() {
  const list = $("#symbol-list");
  list.replaceChildren(
    ...[...instruments.entries()]
      .filter(([s]) => !rows.has(s))
      .map(([s, inst]) => {
        const o = document.createElement("option");
        o.value = s;
        o.label = inst.description || s;
        return o;
      }),
  );
}

async function loadInstruments() {
  const url = new URL("api/symbols", location.href);
  const headers = token ? { Authorization: `Bearer ${token}` } : {};
  try {
    const resp = await fetch(url, { headers, cache: "no-store" });
    if (!resp.ok) throw new Error(`HTTP ${resp.status}`);
    for (const s of (await resp.json()).symbols) instruments.set(s.symbol, s);
  } catch (err) {
    notice("warning", "no_symbols", `symbol list unavailable (${err.message}); prices shown unformatted`);
    return;
  }
  for (const row of rows.values()) {
    describe(row);
    dirty.add(row.symbol);
  }
  refreshPicker();
  schedule();
}

// ---------------------------------------------------------------- notices

function notice(level, code, message) {
  const li = document.createElement("li");
  li.className = level;
  li.dataset.code = code || "";
  const strong = document.createElement("strong");
  strong.textContent = code || level;
  const close = document.createElement("button");
  close.textContent = "×";
  close.setAttribute("aria-label", "Dismiss");
  close.onclick = () => li.remove();
  li.append(strong, ` ${message || ""} `, close);
  noticesEl.prepend(li);
  while (noticesEl.children.length > 5) noticesEl.lastElementChild.remove();
  setTimeout(() => li.remove(), NOTICE_MS);
}

// ---------------------------------------------------------------- start

$("#picker").addEventListener("submit", (ev) => {
  ev.preventDefault();
  addSymbol(pickerEl.value);
  pickerEl.value = "";
});
for (const sym of symbols) addRow(sym);
saveSymbols();
setInterval(refreshClocks, 250);
loadInstruments().finally(start);
