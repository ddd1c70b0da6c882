/**
 * ticker-client: a typed client for ticker's live quote WebSocket (docs/js-client.md).
 *
 *     const c = connect("wss://quotes.example.com/ws", { token });
 *     await c.subscribe(["EURUSD"], { throttleMs: 250 });
 *     c.on("quote", (q) => console.log(q.symbol, q.bid, q.ask));
 *
 * The pure parts (book, backoff, frames, subscriptions, requests, lifecycle,
 * keepalive) are exported too, for clients on another transport.
 */
export { Client, connect, } from "./client.js";
export { QuoteBook, mid, spread } from "./book.js";
export { backoff } from "./backoff.js";
export { AuthError, TickerError } from "./errors.js";
export { unpack } from "./frames.js";
export { Keepalive } from "./keepalive.js";
export { IllegalTransition, Lifecycle, verdict } from "./lifecycle.js";
export { Requests } from "./requests.js";
export { Subscriptions, request } from "./subscriptions.js";
export * from "./messages.js";
