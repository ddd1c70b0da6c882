// The quote board: DOM and WebSocket around the pure helpers in quotes.js.
// Speaks only the public protocol (docs/protocol.md).
import {
  QuoteBook, backoff, formatAge, formatLatency, spreadPips, splitPrice, unpack, websocketUrl,
} from "./quotes.js";

const DEFAULT_SYMBOLS = ["EURUSD", "GBPUSD", "USDJPY", "USDCHF", "AUDUSD", "USDCAD", "NZDUSD", "XAUUSD"];
const STORAGE_KEY = "ticker.board.symbols";
const HEALTHY_AFTER_MS = 5000; // a connection that lived this long resets the backoff
const PING_EVERY_MS = 15000; // browsers hide protocol pings: ping in the protocol
const SILENCE_LIMIT_MS = 35000; // nothing at all for this long: the connection is dead
const NOTICE_MS = 15000;

const params = new URLSearchParams(location.search);
const token = params.get("token") || "";
const wsPath = document.querySelector('meta[name="ticker-ws-path"]')?.content || "/ws";
const wsUrl = websocketUrl(location, wsPath, token);
const nowUs = () => (performance.timeOrigin + performance.now()) * 1000;

const $ = (sel) => document.querySelector(sel);
const rowsEl = $("#rows");
const connEl = $("#conn");
const noticesEl = $("#notices");
const pickerEl = $("#picker-input");
const footEl = $("#foot");

const book = new QuoteBook();
const instruments = new Map(); // symbol -> {decimals, pip_size, description}
const rows = new Map(); // symbol -> {tr, cells, baseline, lastAt, latencyMs}
let symbols = initialSymbols();
let ws = null;
let delays = backoff();
let openedAt = 0;
let lastFrameAt = 0;
let retryTimer = 0;
let pingTimer = 0;
let nextId = 0;
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
  connEl.dataset.state = state;
  connEl.textContent = text;
}

function connect() {
  clearTimeout(retryTimer);
  setConn("connecting", "connecting…");
  try {
    ws = new WebSocket(wsUrl);
  } catch (err) {
    notice("error", "bad_url", `cannot open ${wsUrl}: ${err.message}`);
    return;
  }
  ws.onopen = () => {
    openedAt = lastFrameAt = Date.now();
    setConn("live", "live");
    if (symbols.length) send({ op: "subscribe", symbols });
    pingTimer = setInterval(heartbeat, PING_EVERY_MS);
  };
  ws.onmessage = (ev) => {
    lastFrameAt = Date.now();
    const receivedUs = nowUs();
    let messages;
    try {
      messages = unpack(ev.data);
    } catch {
      return; // not protocol JSON: nothing to show
    }
    for (const m of messages) handle(m, receivedUs);
  };
  ws.onclose = (ev) => lost(ev.code, ev.reason);
}

function lost(code, reason) {
  clearInterval(pingTimer);
  if (ws) ws.onopen = ws.onmessage = ws.onclose = null;
  ws = null;
  if (Date.now() - openedAt >= HEALTHY_AFTER_MS && openedAt) delays = backoff();
  openedAt = 0;
  book.markStale();
  for (const sym of rows.keys()) dirty.add(sym);
  schedule();
  const delay = delays.next().value;
  const why = code === 1006 || !code ? "connection failed" : `closed ${code}${reason ? `: ${reason}` : ""}`;
  const until = Date.now() + delay * 1000;
  const tick = () => {
    const left = Math.max(0, (until - Date.now()) / 1000);
    setConn("reconnecting", `${why} · retrying in ${left.toFixed(1)} s`);
    if (left > 0) retryTimer = setTimeout(tick, Math.min(250, left * 1000));
    else connect();
  };
  tick();
}

function heartbeat() {
  if (Date.now() - lastFrameAt > SILENCE_LIMIT_MS && ws) {
    ws.close(4000, "no data");
    lost(4000, "no data from the server");
    return;
  }
  send({ op: "ping" });
}

function send(request) {
  if (!ws || ws.readyState !== WebSocket.OPEN) return null;
  request.id = ++nextId;
  ws.send(JSON.stringify(request));
  return request.id;
}

// ---------------------------------------------------------------- messages

function handle(m, receivedUs) {
  switch (m.type) {
    case "snapshot":
    case "update":
    case "status": {
      if (!rows.has(m.symbol)) return; // removed meanwhile
      const change = book.apply(m);
      if (!change) return;
      const row = rows.get(m.symbol);
      const q = change.quote;
      if (m.type === "update") {
        updatesSeen += 1;
        row.latencyMs = (receivedUs - m.ts) / 1000;
        row.lastAt = Date.now();
      } else if (m.type === "snapshot" && q.ts) {
        row.lastAt = Date.now() - Math.max(0, (receivedUs - q.ts) / 1000);
      }
      if (row.baseline == null && q.bid != null && q.ask != null) row.baseline = (q.bid + q.ask) / 2;
      if (m.type === "update" && change.prev) {
        flash(row, "bid", change.prev.bid, q.bid);
        flash(row, "ask", change.prev.ask, q.ask);
      }
      dirty.add(m.symbol);
      schedule();
      break;
    }
    case "error":
      if (m.code === "unknown_symbol" || m.code === "not_entitled") {
        for (const s of m.symbols || []) removeSymbol(s, false);
      }
      notice("error", m.code, m.message);
      break;
    case "warning":
      notice("warning", m.code, m.message);
      break;
    default:
      break; // subscribed, unsubscribed, pong and types from newer servers
  }
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
    if (row) paint(row, book.quotes.get(sym));
  }
}

function priceHtml(el, price, inst) {
  el.replaceChildren();
  if (price == null) {
    el.textContent = "—";
    return;
  }
  if (!inst) {
    el.textContent = String(price);
    return;
  }
  const [big, pips, pipette] = splitPrice(price, inst.decimals, inst.pip_size);
  for (const [cls, text] of [["big", big], ["pips", pips], ["pipette", pipette]]) {
    const span = document.createElement("span");
    span.className = cls;
    span.textContent = text;
    el.append(span);
  }
}

function paint(row, q) {
  const c = row.cells;
  if (!q) return;
  const inst = instruments.get(row.symbol);
  priceHtml(c.bid, q.bid, inst);
  priceHtml(c.ask, q.ask, inst);
  const both = q.bid != null && q.ask != null;
  c.spread.textContent = both && inst ? spreadPips(q.bid, q.ask, inst.pip_size).toFixed(1) : "—";
  if (both && inst && row.baseline != null) {
    const pips = ((q.bid + q.ask) / 2 - row.baseline) / inst.pip_size;
    c.chg.textContent = `${pips > 0 ? "+" : ""}${pips.toFixed(1)}`;
    c.chg.dataset.dir = pips > 0.05 ? "up" : pips < -0.05 ? "down" : "flat";
  }
  c.status.textContent = q.status;
  row.tr.dataset.status = q.status;
  row.tr.dataset.seq = q.seq;
}

const css = getComputedStyle(document.documentElement);
const FLASH = { up: css.getPropertyValue("--up-flash").trim(), down: css.getPropertyValue("--down-flash").trim() };

function flash(row, side, before, after) {
  if (before == null || after == null || before === after) return;
  const dir = after > before ? "up" : "down";
  const el = row.cells[side];
  el.dataset.dir = dir; // keeps the price coloured by its last move
  el.animate([{ backgroundColor: FLASH[dir] }, { backgroundColor: "transparent" }], {
    duration: 600,
    easing: "ease-out",
  });
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
      `${book.gaps} merged by conflation · ${wsUrl.replace(/token=[^&]*/, "token=…")}`;
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
  desc.textContent = instruments.get(sym)?.description || "";
  symTd.append(name, desc);
  for (const n of ["bid", "ask", "spread", "chg", "age", "latency", "status"]) make(n).textContent = "—";
  cells.status.textContent = "pending";
  const btn = document.createElement("button");
  btn.className = "remove";
  btn.title = `Remove ${sym}`;
  btn.setAttribute("aria-label", `Remove ${sym}`);
  btn.textContent = "×";
  btn.onclick = () => removeSymbol(sym, true);
  make("actions").replaceChildren(btn);
  rowsEl.append(tr);
  rows.set(sym, { symbol: sym, tr, cells, baseline: null, lastAt: 0, latencyMs: null });
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
  send({ op: "subscribe", symbols: [sym] });
}

function removeSymbol(sym, tellServer) {
  const row = rows.get(sym);
  if (!row) return;
  row.tr.remove();
  rows.delete(sym);
  book.forget(sym);
  symbols = symbols.filter((s) => s !== sym);
  saveSymbols();
  refreshPicker();
  if (tellServer) send({ op: "unsubscribe", symbols: [sym] });
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
    row.tr.querySelector(".desc").textContent = instruments.get(row.symbol)?.description || "";
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
loadInstruments().finally(connect);
