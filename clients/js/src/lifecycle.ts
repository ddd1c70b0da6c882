/**
 * The connection's life as an explicit state machine, and the decision,
 * when a connection ends, between retrying and giving up. Pure.
 *
 *     idle ──> connecting ──> open ──> waiting ──> connecting ...
 *                  │            │         │
 *                  └─> waiting  └─────────┴──> closed   (any state may close)
 *
 * `waiting` is the backoff pause before the next attempt. `closed` is final:
 * the user closed the client, a connection ended with reconnecting off, or
 * the server refused the token.
 */

import { AuthError } from "./errors.js";
import { CloseCode } from "./messages.js";

export type ConnState = "idle" | "connecting" | "open" | "waiting" | "closed";

const MOVES: Record<ConnState, readonly ConnState[]> = {
  idle: ["connecting", "closed"],
  connecting: ["open", "waiting", "closed"],
  open: ["waiting", "closed"],
  waiting: ["connecting", "closed"],
  closed: [],
};

/** Our bug: the shell asked for a move the state machine forbids. */
export class IllegalTransition extends Error {}

export class Lifecycle {
  state: ConnState = "idle";
  /** connections opened so far */
  opened = 0;

  to(next: ConnState, why: string): void {
    if (!MOVES[this.state].includes(next)) {
      throw new IllegalTransition(`${this.state} -> ${next} is not allowed (on ${why})`);
    }
    if (next === "open") this.opened++;
    this.state = next;
  }
}

/** What is known about a connection that just ended. */
export interface Ending {
  /** the close code (null when the socket never got one) */
  code: number | null;
  reason: string;
  /** whether the socket had opened (the upgrade succeeded) */
  opened: boolean;
  /** the server answered this connection's last `auth` with `auth_failed` */
  authRefused: boolean;
  /** text of the socket's error event: Node implementations name the HTTP status there */
  errorText: string;
  /** the token comes from a provider that can hand out a fresh one */
  renewableToken: boolean;
}

/**
 * Null to retry, or the AuthError that ends the client. How an auth failure
 * shows depends on where the token went (the server's behaviour, docs/protocol.md):
 * - in an `auth` message (the default): an `auth_failed` error, then close 1008
 *   `authentication failed: …`; this works the same in every runtime;
 * - no token on a server that wants one: close 1008 `authentication required: …`;
 * - expiry: close 1008 `token expired` (a token provider gets another try);
 * - in the URL (`tokenIn: "query"`): HTTP 401/403 before the upgrade. Node's `ws`
 *   names the status in its error ("Unexpected server response: 401"); browsers
 *   hide it (close 1006, like a server that is down), so those retry.
 */
export function verdict(e: Ending): AuthError | null {
  if (!e.opened && /\b40[13]\b/.test(e.errorText)) {
    return new AuthError("handshake_refused", `the server refused the connection: ${e.errorText}`);
  }
  if (e.code !== CloseCode.POLICY_VIOLATION) return null;
  if (e.reason === "token expired") {
    return e.renewableToken ? null : new AuthError("auth_failed", "token expired");
  }
  if (e.reason.startsWith("authentication required")) return new AuthError("unauthenticated", e.reason);
  // A proxy may drop the reason; the auth_failed just before still says why.
  if (e.reason.startsWith("authentication") || (e.authRefused && !e.reason)) {
    return new AuthError("auth_failed", e.reason || "authentication failed");
  }
  return null;
}
