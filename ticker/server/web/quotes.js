// Pure display helpers of the quote board: no DOM, no sockets, no clock of their own.
// The protocol (frames, the quote book, reconnecting) is the SDK's job: ./sdk/ is
// ticker-client (clients/js), built by tsc; the browser test exercises both.

/** Decimal places of a pip: 0.0001 -> 4, 0.01 -> 2, 0.1 -> 1. */
export function pipDecimals(pipSize) {
  return Math.max(0, Math.round(-Math.log10(pipSize)));
}

/**
 * Split a price as trading screens show it: the big figure, the two pip
 * digits (shown large) and the fractional pip ("pipette", shown small).
 * EURUSD 1.08412 (5 decimals, pip 0.0001) -> ["1.08", "41", "2"];
 * USDJPY 151.234 (3, 0.01) -> ["151.", "23", "4"].
 * Two pip digits never straddle the decimal point: where they would (a metal
 * quoted to cents with a 0.1 pip, XAUUSD 4080.25), the decimals are what a
 * trader reads, so they are the large part: ["4080.", "25", ""].
 * Mirrored by ticker/client/prices.py split_price (the terminal's table).
 */
export function splitPrice(price, decimals, pipSize) {
  const text = price.toFixed(decimals);
  const pipette = Math.max(0, decimals - pipDecimals(pipSize));
  const head = pipette ? text.slice(0, text.length - pipette) : text;
  // The two digits ending at the pip position.
  let cut = head.length;
  for (let digits = 0; cut > 0 && digits < 2; ) {
    cut -= 1;
    if (head[cut] !== ".") digits += 1;
  }
  const point = text.indexOf(".");
  if (point > cut && point < head.length - 1) return [text.slice(0, point + 1), text.slice(point + 1), ""];
  return [head.slice(0, cut), head.slice(cut), text.slice(head.length)];
}

/** A signed number to `digits` decimals, with no "-0.0" for what rounds to zero. */
export function signedFixed(value, digits) {
  const text = Math.abs(value).toFixed(digits);
  if (Number(text) === 0) return text;
  return (value > 0 ? "+" : "-") + text;
}

/** A price at its symbol's decimals ("—" for none; as it came while the decimals are unknown). */
export function priceText(price, decimals) {
  if (price == null) return "—";
  return decimals == null ? String(price) : price.toFixed(decimals);
}

/** A change with its sign at `decimals` (no "-0.00000"); "—" for none. */
export function changeText(value, decimals) {
  if (value == null) return "—";
  if (decimals == null) return value > 0 ? `+${value}` : String(value); // String(-0) is "0"
  return signedFixed(value, decimals);
}

/** "up", "down" or "flat": which way a change went (what colours it). */
export function direction(value) {
  return value > 0 ? "up" : value < 0 ? "down" : "flat";
}

const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const two = (n) => String(n).padStart(2, "0");

/**
 * When a market opens, in the viewer's local time: "Sun 23:00" within the
 * coming six days, else the date too ("2025-12-27 23:00", after a holiday).
 * `us`: µs since the epoch (the protocol's next_open); `nowMs`: the clock.
 */
export function formatOpens(us, nowMs) {
  const at = new Date(us / 1000);
  const hm = `${two(at.getHours())}:${two(at.getMinutes())}`;
  if (us / 1000 - nowMs < 6 * 86_400_000) return `${WEEKDAYS[at.getDay()]} ${hm}`;
  return `${at.getFullYear()}-${two(at.getMonth() + 1)}-${two(at.getDate())} ${hm}`;
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
 * https:. A token is not put in it: the SDK sends it in an `auth` message.
 */
export function websocketUrl(location, wsPath) {
  const url = new URL(wsPath.replace(/^\/+/, ""), location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  url.search = "";
  url.hash = "";
  return url.href;
}
