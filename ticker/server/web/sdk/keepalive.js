/**
 * Is the connection alive? Browsers hide WebSocket pings from pages, so the
 * client watches the protocol itself. Pure: the shell calls `due(now)` a few
 * times per interval and does what it says.
 *
 * - Every frame received proves the connection alive.
 * - Quiet for `pingIntervalMs`: send a `ping` (the `pong` is traffic too).
 * - Nothing at all for `idleTimeoutMs`: the connection is dead (a laptop lid
 *   closed, a NAT mapping dropped); close it and reconnect.
 * - Server heartbeats (`{"op":"heartbeat"}`, docs/protocol.md "Heartbeats"):
 *   once the server has agreed ({@link Keepalive.heartbeats}) it sends traffic
 *   whenever the connection is idle, so the client stops pinging and declares
 *   the connection dead after `silenceMs` without anything, data or heartbeat
 *   (a small multiple of the interval: heartbeats may be up to 250 ms late).
 *   Until the server agrees, pings go on as before: an older server answers
 *   the op with `unknown_op` and is pinged.
 */
export class Keepalive {
    pingIntervalMs;
    idleTimeoutMs;
    #last = 0;
    #pinged = 0;
    /** the server agreed to heartbeats: nothing for this long is a dead connection (0: not agreed) */
    silenceMs = 0;
    constructor(pingIntervalMs, idleTimeoutMs) {
        this.pingIntervalMs = pingIntervalMs;
        this.idleTimeoutMs = idleTimeoutMs;
    }
    /** A connection opened (counts as traffic); heartbeats must be agreed again. */
    reset(now) {
        this.#last = this.#pinged = now;
        this.silenceMs = 0;
    }
    received(now) {
        this.#last = now;
    }
    /** The server agreed to send heartbeats: stop pinging, watch for `silenceMs` of silence (0: stop watching, ping again). */
    heartbeats(silenceMs) {
        this.silenceMs = silenceMs;
    }
    /** ms since the last frame. */
    quietFor(now) {
        return now - this.#last;
    }
    due(now) {
        const quiet = now - this.#last;
        if ((this.idleTimeoutMs > 0 && quiet >= this.idleTimeoutMs) || (this.silenceMs > 0 && quiet >= this.silenceMs)) {
            return "dead";
        }
        const quietSince = Math.max(this.#last, this.#pinged);
        if (!this.silenceMs && this.pingIntervalMs > 0 && now - quietSince >= this.pingIntervalMs) {
            this.#pinged = now;
            return "ping";
        }
        return null;
    }
}
