// Pure helpers of the quote board: no DOM, no sockets, no clock of their own.
// They mirror ticker.client (book.py, backoff) so the page and the Python
// client read the protocol the same way; the browser test exercises them.

/** One server frame -> its messages (a frame is one object or an array). */
export function unpack(text) {
  const data = JSON.parse(text);
  return (Array.isArray(data) ? data : [data]).filter((m) => m && typeof m === "object");
}

const FIELDS = ["bid", "ask", "bid_size", "ask_size"];

/**
 * Latest quote per symbol from snapshot / update / status messages.
 * A snapshot replaces the quote; an update applies only with a higher seq
 * (seq - previous - 1 is the gap: updates merged by conflation); updates and
 * statuses for symbols without a snapshot are dropped. apply() returns
 * {quote, gap, prev} when a quote changed, else null.
 */
export class QuoteBook {
  constructor() {
    this.quotes = new Map();
    this.gaps = 0;
  }

  apply(m) {
    const sym = m.symbol;
    if (typeof sym !== "string") return null;
    const prev = this.quotes.get(sym);
    let quote;
    if (m.type === "snapshot") {
      if (!Number.isInteger(m.seq)) return null;
      quote = { symbol: sym, seq: m.seq, ts: m.ts ?? 0, status: m.status ?? "live" };
      for (const f of FIELDS) quote[f] = m[f] ?? null;
    } else if (m.type === "update") {
      if (!prev || !Number.isInteger(m.seq) || m.seq <= prev.seq) return null;
      quote = { ...prev, seq: m.seq, ts: m.ts ?? prev.ts };
      for (const f of FIELDS) if (f in m) quote[f] = m[f];
    } else if (m.type === "status") {
      if (!prev || typeof m.status !== "string") return null;
      quote = { ...prev, status: m.status };
    } else {
      return null;
    }
    const gap = m.type === "update" ? m.seq - prev.seq - 1 : 0;
    this.gaps += gap;
    this.quotes.set(sym, quote);
    return { quote, gap, prev };
  }

  forget(symbol) {
    this.quotes.delete(symbol);
  }

  markStale() {
    for (const [sym, q] of this.quotes) this.quotes.set(sym, { ...q, status: "stale" });
  }
}

/** Backoff delays in seconds: uniform in [cap/2, cap], cap doubling up to max. */
export function* backoff(initial = 0.5, max = 30, random = Math.random) {
  let cap = initial;
  for (;;) {
    yield cap / 2 + random() * (cap / 2);
    cap = Math.min(cap * 2, max);
  }
}

/** Decimal places of a pip: 0.0001 -> 4, 0.01 -> 2, 0.1 -> 1. */
export function pipDecimals(pipSize) {
  return Math.max(0, Math.round(-Math.log10(pipSize)));
}

/**
 * Split a price as trading screens show it: the big figure, the two pip
 * digits (shown large) and the fractional pip ("pipette", shown small).
 * EURUSD 1.08412 (5 decimals, pip 0.0001) -> ["1.08", "41", "2"];
 * USDJPY 151.234 (3, 0.01) -> ["151.", "23", "4"].
 */
export function splitPrice(price, decimals, pipSize) {
  const text = price.toFixed(decimals);
  const pipette = Math.max(0, decimals - pipDecimals(pipSize));
  const head = pipette ? text.slice(0, text.length - pipette) : text;
  // The two digits ending at the pip position, skipping a decimal point between them.
  let cut = head.length;
  for (let digits = 0; cut > 0 && digits < 2; ) {
    cut -= 1;
    if (head[cut] !== ".") digits += 1;
  }
  return [head.slice(0, cut), head.slice(cut), text.slice(head.length)];
}

/** Spread in pips, one decimal (ask - bid over the pip size). */
export function spreadPips(bid, ask, pipSize) {
  return Math.round(((ask - bid) / pipSize) * 10) / 10;
}

/** "0.4 s", "12 s", "3 min", "2 h" */
export function formatAge(seconds) {
  if (seconds < 10) return `${Math.max(0, seconds).toFixed(1)} s`;
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}

/** Latency in ms: two significant decimals below 10 ms. */
export function formatLatency(ms) {
  if (ms < 10) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${ms.toFixed(0)} ms`;
  return `${(ms / 1000).toFixed(1)} s`;
}

/**
 * The WebSocket URL for a page: the server's ws path resolved against the
 * page location (so a proxy prefix is kept), ws: or wss: to match http: or
 * https:, and the page's token passed on as a query parameter.
 */
export function websocketUrl(location, wsPath, token) {
  const url = new URL(wsPath.replace(/^\/+/, ""), location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  url.search = "";
  url.hash = "";
  if (token) url.searchParams.set("token", token);
  return url.href;
}
