/**
 * Is the connection alive? Browsers hide WebSocket pings from pages, so the
 * client watches the protocol itself. Pure: the shell calls `due(now)` a few
 * times per interval and does what it says.
 *
 * - Every frame received proves the connection alive.
 * - Quiet for `pingIntervalMs`: send a `ping` (the `pong` is traffic too).
 * - Nothing at all for `idleTimeoutMs`: the connection is dead (a laptop lid
 *   closed, a NAT mapping dropped); close it and reconnect.
 * - With server heartbeats (`{"op":"heartbeat"}`, coming with the server) the
 *   server sends traffic when idle, so the client stops pinging and only
 *   watches for silence.
 */
export class Keepalive {
    pingIntervalMs;
    idleTimeoutMs;
    #last = 0;
    #pinged = 0;
    /** the server sends heartbeats when idle: no pings needed */
    serverHeartbeats = false;
    constructor(pingIntervalMs, idleTimeoutMs) {
        this.pingIntervalMs = pingIntervalMs;
        this.idleTimeoutMs = idleTimeoutMs;
    }
    /** A connection opened (counts as traffic). */
    reset(now) {
        this.#last = this.#pinged = now;
        this.serverHeartbeats = false;
    }
    received(now) {
        this.#last = now;
    }
    due(now) {
        if (this.idleTimeoutMs > 0 && now - this.#last >= this.idleTimeoutMs)
            return "dead";
        const quietSince = Math.max(this.#last, this.#pinged);
        if (!this.serverHeartbeats && this.pingIntervalMs > 0 && now - quietSince >= this.pingIntervalMs) {
            this.#pinged = now;
            return "ping";
        }
        return null;
    }
}
