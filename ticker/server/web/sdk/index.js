/**
 * ticker-client: a typed client for ticker's live quote WebSocket (docs/js-client.md).
 *
 *     const c = connect("wss://quotes.example.com/ws", { token });
 *     await c.subscribe(["EURUSD"], { throttleMs: 250 });
 *     c.on("quote", (q) => console.log(q.symbol, q.bid, q.ask, q.change, q.changePct, q.day?.high));
 *     await c.subscribeBars("EURUSD", "1m", { history: 300 });
 *     c.on("bar", (b) => console.log(b.start, b.close, b.closed));
 *
 * The pure parts (book, bar store, backoff, frames, subscriptions, requests,
 * lifecycle, keepalive, resume) are exported too, for clients on another transport.
 */
export { Client, connect, } from "./client.js";
export { QuoteBook, mid, spread } from "./book.js";
export { BarStore, seriesKey, splitKey } from "./bars.js";
export { backoff } from "./backoff.js";
export { fetchBars } from "./http.js";
export { outcomes, since } from "./resume.js";
export { AuthError, TickerError } from "./errors.js";
export { unpack } from "./frames.js";
export { Keepalive } from "./keepalive.js";
export { IllegalTransition, Lifecycle, verdict } from "./lifecycle.js";
export { LISTED_MAX, Requests } from "./requests.js";
export { BarSubscriptions, Subscriptions, barRequest, keysOf, request } from "./subscriptions.js";
export * from "./messages.js";
