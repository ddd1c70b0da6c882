// The quote board's candle chart: one symbol, an interval picker, history from
// GET /api/bars and live bars from the WebSocket (docs/protocol.md, "Bars").
// Self-contained: it opens its own WebSocket and speaks the public protocol, so
// the board only needs a <section id="chart">. Click a row of the board (any
// element with data-symbol) or dispatch `ticker:select` ({detail: {symbol}}) on
// window to chart a symbol.
//
// No gap at the seam: the chart subscribes to the series first, then reads the
// history over REST; both land in one BarSet, where a bar's newest state (the
// higher seq for its start) wins, so a bar that closed between the two reads is
// either in the history or in the stream, and never lost or doubled.
import { CandlestickSeries, ColorType, createChart } from "./vendor/lightweight-charts.mjs";

const DEFAULT_INTERVALS = ["1s", "1m", "5m", "15m", "1h", "4h", "1d"];
const HISTORY = 500;
const THROTTLE_MS = 100; // a forming candle redrawn 10 times a second is plenty
const STORAGE_KEY = "ticker.chart";

/** Bars of one series by start time; the newest state of each bar wins (pure). */
export class BarSet {
  constructor() {
    this.bars = new Map();
    this.newest = null;
  }

  /** Take one bar; returns "append" (the newest bar changed or a newer one began),
   * "history" (an older bar changed: redraw) or null (nothing new). */
  put(b) {
    if (!b || !Number.isInteger(b.start) || !Number.isInteger(b.seq)) return null;
    const held = this.bars.get(b.start);
    if (held && held.seq >= b.seq) return null;
    this.bars.set(b.start, b);
    if (this.newest === null || b.start >= this.newest) {
      this.newest = b.start;
      return "append";
    }
    return "history";
  }

  sorted() {
    return [...this.bars.values()].sort((a, b) => a.start - b.start);
  }
}

/** A bar as the chart library wants it (time in UTC seconds). */
export function candle(b) {
  return { time: Math.floor(b.start / 1e6), open: b.open, high: b.high, low: b.low, close: b.close };
}

const section = document.getElementById("chart");
if (section) start(section);

function start(root) {
  const params = new URLSearchParams(location.search);
  const token = params.get("token") || "";
  const wsPath = document.querySelector('meta[name="ticker-ws-path"]')?.content || "/ws";
  const wsUrl = new URL(wsPath, location.href);
  wsUrl.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  const headers = token ? { Authorization: `Bearer ${token}` } : {};
  const css = getComputedStyle(document.documentElement);
  const color = (name, fallback) => css.getPropertyValue(name).trim() || fallback;

  const saved = (() => {
    try { return JSON.parse(localStorage.getItem(STORAGE_KEY) || "{}") || {}; } catch { return {}; }
  })();
  const state = {
    symbol: params.get("chart") || saved.symbol || null,
    interval: params.get("interval") || saved.interval || "1m",
    intervals: DEFAULT_INTERVALS,
    set: new BarSet(),
    ready: false,
    epoch: 0, // bumps on every (re)selection: late answers for an old one are dropped
    ws: null,
    nextId: 0,
    retry: 1,
    decimals: new Map(),
  };

  // ------------------------------------------------------------ DOM
  const head = document.createElement("div");
  head.className = "chart-head";
  const title = document.createElement("h2");
  title.className = "chart-title";
  const picker = document.createElement("div");
  picker.className = "chart-intervals";
  picker.setAttribute("role", "group");
  picker.setAttribute("aria-label", "Bar interval");
  const status = document.createElement("span");
  status.className = "chart-status";
  head.append(title, picker, status);
  const pane = document.createElement("div");
  pane.className = "chart-pane";
  const foot = document.createElement("div");
  foot.className = "chart-foot";
  const attribution = document.createElement("a");
  attribution.href = "https://www.tradingview.com/";
  attribution.target = "_blank";
  attribution.rel = "noopener";
  attribution.textContent = "Charting by TradingView Lightweight Charts™";
  foot.append("Times in UTC · ", attribution);
  root.replaceChildren(head, pane, foot);

  const chart = createChart(pane, {
    autoSize: true,
    layout: {
      background: { type: ColorType.Solid, color: color("--panel", "#161b22") },
      textColor: color("--text", "#d7dde4"),
      attributionLogo: false, // its inline <style> is refused by the page's CSP: see foot
    },
    grid: { vertLines: { color: color("--line", "#262d36") }, horzLines: { color: color("--line", "#262d36") } },
    timeScale: { timeVisible: true, secondsVisible: false, borderColor: color("--line", "#262d36") },
    rightPriceScale: { borderColor: color("--line", "#262d36") },
  });
  const up = color("--up", "#3fb950");
  const down = color("--down", "#f85149");
  const series = chart.addSeries(CandlestickSeries, {
    upColor: up, downColor: down, borderUpColor: up, borderDownColor: down, wickUpColor: up, wickDownColor: down,
  });

  function drawPicker() {
    picker.replaceChildren(...state.intervals.map((iv) => {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = iv;
      b.dataset.interval = iv;
      b.setAttribute("aria-pressed", String(iv === state.interval));
      b.onclick = () => select(state.symbol, iv);
      return b;
    }));
  }

  function setStatus(text) {
    status.textContent = text;
  }

  function publish() {
    // For people (the title) and for tests (data attributes).
    const last = state.set.newest === null ? null : state.set.bars.get(state.set.newest);
    root.dataset.symbol = state.symbol || "";
    root.dataset.interval = state.interval;
    root.dataset.bars = String(state.set.bars.size);
    root.dataset.seq = last ? String(last.seq) : "";
    root.dataset.ready = String(state.ready);
    title.textContent = state.symbol ? `${state.symbol} · ${state.interval}` : "Chart";
  }

  function markRow() {
    for (const tr of document.querySelectorAll("tr[data-symbol]")) {
      if (tr.dataset.symbol === state.symbol) tr.dataset.charted = "true";
      else delete tr.dataset.charted;
    }
  }

  function redraw() {
    series.setData(state.set.sorted().map(candle));
    publish();
  }

  // ------------------------------------------------------------ selection

  function select(symbol, interval) {
    if (!symbol) return;
    const old = state.ws && state.symbol ? { symbol: state.symbol, interval: state.interval } : null;
    if (old && (old.symbol !== symbol || old.interval !== interval)) {
      send({ op: "unsubscribe", symbols: [old.symbol], bars: old.interval });
    }
    state.symbol = symbol;
    state.interval = interval;
    state.set = new BarSet();
    state.ready = false;
    state.epoch += 1;
    try { localStorage.setItem(STORAGE_KEY, JSON.stringify({ symbol, interval })); } catch { /* private mode */ }
    const d = state.decimals.get(symbol) ?? 5;
    series.applyOptions({ priceFormat: { type: "price", precision: d, minMove: 10 ** -d } });
    chart.applyOptions({ timeScale: { secondsVisible: interval.endsWith("s") } });
    series.setData([]);
    drawPicker();
    publish();
    markRow();
    setStatus("loading…");
    subscribe();
  }

  function subscribe() {
    if (!state.symbol) return;
    send({ op: "subscribe", symbols: [state.symbol], bars: state.interval, history: 0, throttle_ms: THROTTLE_MS });
  }

  async function loadHistory(epoch) {
    const url = new URL("api/bars", location.href);
    url.search = new URLSearchParams({ symbol: state.symbol, interval: state.interval, count: String(HISTORY) });
    let body;
    try {
      const resp = await fetch(url, { headers, cache: "no-store" });
      body = await resp.json();
      if (!resp.ok) throw new Error(body?.error?.message || `HTTP ${resp.status}`);
    } catch (err) {
      if (epoch === state.epoch) setStatus(`history unavailable: ${err.message}`);
      return;
    }
    if (epoch !== state.epoch) return;
    for (const b of body.bars) state.set.put(b);
    state.ready = true;
    setStatus("");
    redraw();
    if (state.set.bars.size < 60) chart.timeScale().fitContent();
    else chart.timeScale().scrollToRealTime();
  }

  // ------------------------------------------------------------ the stream

  function send(request) {
    const ws = state.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    request.id = `chart-${++state.nextId}`;
    ws.send(JSON.stringify(request));
  }

  function onMessage(m) {
    const mine = m.symbol === state.symbol && m.interval === state.interval;
    if (m.type === "bars" && mine) {
      for (const b of m.bars) state.set.put(b);
      loadHistory(state.epoch);
    } else if (m.type === "bar" && mine) {
      const change = state.set.put(m);
      if (!state.ready || change === null) return;
      if (change === "append") {
        series.update(candle(m));
        publish();
      } else {
        redraw(); // a correction of an older bar
      }
    } else if (m.type === "error" && (m.code === "auth_failed" || m.code === "unauthenticated") && token) {
      state.refused = m.message || m.code; // the server closes next (1008): do not retry a refused token
    } else if (m.type === "error" && typeof m.id === "string" && m.id.startsWith("chart-")) {
      if (m.code === "unknown_interval" && Array.isArray(m.intervals) && m.intervals.length) {
        state.intervals = m.intervals;
        select(state.symbol, m.intervals.includes(state.interval) ? state.interval : m.intervals[0]);
      } else {
        setStatus(m.message || m.code);
      }
    }
  }

  function connect() {
    const ws = new WebSocket(wsUrl);
    state.ws = ws;
    ws.onopen = () => {
      state.retry = 1;
      // The token in the first message, never the URL (proxy logs keep URLs), as the board does.
      if (token) ws.send(JSON.stringify({ op: "auth", token }));
      if (state.symbol) select(state.symbol, state.interval); // fresh snapshot and history
    };
    ws.onmessage = (ev) => {
      let data;
      try { data = JSON.parse(ev.data); } catch { return; }
      for (const m of Array.isArray(data) ? data : [data]) if (m && typeof m === "object") onMessage(m);
    };
    ws.onclose = (ev) => {
      if (state.ws !== ws) return;
      state.ws = null;
      if (state.refused && ev.code === 1008) {
        setStatus(`not connected: ${state.refused}`);
        return;
      }
      setStatus("reconnecting…");
      setTimeout(connect, state.retry * 1000);
      state.retry = Math.min(state.retry * 2, 10);
    };
  }

  // ------------------------------------------------------------ wiring

  document.addEventListener("click", (ev) => {
    const target = ev.target instanceof Element ? ev.target : null;
    if (!target || target.closest("button, a, input")) return;
    const row = target.closest("[data-symbol]");
    if (row && !root.contains(row)) select(row.dataset.symbol, state.interval);
  });
  window.addEventListener("ticker:select", (ev) => {
    if (ev.detail?.symbol) select(ev.detail.symbol, ev.detail.interval || state.interval);
  });

  async function loadDecimals() {
    try {
      const resp = await fetch(new URL("api/symbols", location.href), { headers, cache: "no-store" });
      if (resp.ok) for (const s of (await resp.json()).symbols) state.decimals.set(s.symbol, s.decimals);
    } catch { /* prices shown with 5 decimals */ }
  }

  drawPicker();
  publish();
  loadDecimals().finally(() => {
    if (!state.symbol) state.symbol = document.querySelector("tr[data-symbol]")?.dataset.symbol || "EURUSD";
    connect();
  });
}
