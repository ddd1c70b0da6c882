// The quote board's candle chart: one symbol, an interval picker, bars from the SDK
// (docs/protocol.md, "Bars"). It draws; the board's ticker-client does the rest: the
// chart subscribes to the series with its history (`subscribeBars`), the client keeps
// the bars (`client.bars`: each bar's newest state by seq, corrections applied) and,
// after a reconnect, asks for the series again and gets a fresh snapshot with the
// history, so the chart redraws without a gap or a double candle and needs no
// reconnect logic of its own. Click a row of the board (any element with data-symbol)
// or dispatch `ticker:select` ({detail: {symbol}}) on window to chart a symbol.
import { CandlestickSeries, ColorType, createChart } from "./vendor/lightweight-charts.mjs";

const DEFAULT_INTERVALS = ["1s", "1m", "5m", "15m", "1h", "4h", "1d"];
const HISTORY = 500;
const THROTTLE_MS = 100; // a forming candle redrawn 10 times a second is plenty
const STORAGE_KEY = "ticker.chart";

/** A bar as the chart library wants it (time in UTC seconds). */
export function candle(b) {
  return { time: Math.floor(b.start / 1e6), open: b.open, high: b.high, low: b.low, close: b.close };
}

/**
 * Draw the chart into `root`, on `client` (a ticker-client `Client`, shared with the board).
 * `decimals(symbol)` gives a symbol's price decimals (the board has them from /api/symbols).
 */
export function startChart(root, client, { decimals = () => 5 } = {}) {
  const params = new URLSearchParams(location.search);
  const css = getComputedStyle(document.documentElement);
  const color = (name, fallback) => css.getPropertyValue(name).trim() || fallback;

  const saved = (() => {
    try { return JSON.parse(localStorage.getItem(STORAGE_KEY) || "{}") || {}; } catch { return {}; }
  })();
  const state = {
    symbol: params.get("chart") || saved.symbol || null,
    interval: params.get("interval") || saved.interval || "1m",
    intervals: DEFAULT_INTERVALS,
    ready: false,
    epoch: 0, // bumps on every (re)selection: late answers for an old one are dropped
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

  const mine = (m) => m.symbol === state.symbol && m.interval === state.interval;
  const bars = () => (state.symbol ? client.bars.get(state.symbol, state.interval) : []);

  function publish(count = bars().length) {
    // For people (the title) and for tests (data attributes).
    const last = state.symbol ? client.bars.last(state.symbol, state.interval) : undefined;
    root.dataset.symbol = state.symbol || "";
    root.dataset.interval = state.interval;
    root.dataset.bars = String(count);
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
    const all = bars();
    series.setData(all.map(candle));
    publish(all.length);
  }

  // ------------------------------------------------------------ selection

  function select(symbol, interval) {
    if (!symbol) return;
    if (state.symbol && (state.symbol !== symbol || state.interval !== interval)) {
      client.unsubscribeBars(state.symbol, state.interval).catch(() => {}); // a drop meanwhile ends it anyway
    }
    state.symbol = symbol;
    state.interval = interval;
    state.ready = false;
    const epoch = ++state.epoch;
    try { localStorage.setItem(STORAGE_KEY, JSON.stringify({ symbol, interval })); } catch { /* private mode */ }
    const d = decimals(symbol) ?? 5;
    series.applyOptions({ priceFormat: { type: "price", precision: d, minMove: 10 ** -d } });
    chart.applyOptions({ timeScale: { secondsVisible: interval.endsWith("s") } });
    series.setData([]);
    drawPicker();
    publish(0);
    markRow();
    setStatus("loading…");
    client.subscribeBars(symbol, interval, { history: HISTORY, throttleMs: THROTTLE_MS }).then(
      () => {
        if (epoch !== state.epoch) return;
        state.ready = true;
        setStatus("");
        redraw();
        if (bars().length < 60) chart.timeScale().fitContent();
        else chart.timeScale().scrollToRealTime();
      },
      (err) => {
        if (epoch !== state.epoch) return;
        if (err.code === "unknown_interval" && err.intervals?.length && !err.intervals.includes(interval)) {
          state.intervals = err.intervals; // this server builds others: offer those
          select(symbol, err.intervals[0]);
        } else {
          setStatus(err.message || err.code);
        }
      },
    );
  }

  // ------------------------------------------------------------ the stream (through the SDK)

  client.on("bars", (e) => {
    // A fresh snapshot: after a reconnect the SDK asks for the series again, history included.
    if (!mine(e) || !state.ready) return;
    setStatus("");
    redraw();
  });
  client.on("bar", (b) => {
    if (!mine(b) || !state.ready) return;
    if (b.start === client.bars.last(b.symbol, b.interval)?.start) {
      series.update(candle(b)); // the forming candle, or a new one
      publish();
    } else {
      redraw(); // a correction of an older bar
    }
  });
  client.on("close", ({ retryInMs, error, reason }) => {
    if (!state.symbol) return;
    setStatus(retryInMs === null ? `not connected: ${error?.message || reason || "closed"}` : "reconnecting…");
  });

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

  drawPicker();
  publish(0);
  select(state.symbol || document.querySelector("tr[data-symbol]")?.dataset.symbol || "EURUSD", state.interval);
}
