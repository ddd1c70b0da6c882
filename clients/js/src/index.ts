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

export {
  Client,
  connect,
  type BarsEvent,
  type ClientEvents,
  type ConnectOptions,
  type ConnectedMessage,
  type DataMessage,
  type DisconnectedMessage,
  type GapEvent,
  type Message,
  type QuoteEvent,
  type StatusEvent,
  type TokenProvider,
  type WebSocketConstructor,
  type WebSocketLike,
} from "./client.js";
export { QuoteBook, mid, spread, type Change, type Quote, type QuoteMessage } from "./book.js";
export type { Day } from "./day.js";
export { BarStore, seriesKey, splitKey, type BarChange } from "./bars.js";
export { backoff, type BackoffOptions } from "./backoff.js";
export { fetchBars, type BarsQuery, type BarsReply, type FetchLike } from "./http.js";
export { outcomes, since, type Recovery } from "./resume.js";
export { AuthError, TickerError, type LocalErrorCode } from "./errors.js";
export { unpack } from "./frames.js";
export { Keepalive, type KeepaliveAction } from "./keepalive.js";
export { IllegalTransition, Lifecycle, verdict, type ConnState, type Ending } from "./lifecycle.js";
export { LISTED_MAX, Requests, type Result } from "./requests.js";
export { BarSubscriptions, Subscriptions, barRequest, keysOf, request, type SubscribeRequest } from "./subscriptions.js";
export type { OverflowMessage } from "./queue.js";
export * from "./messages.js";
