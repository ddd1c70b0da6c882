/**
 * Server frames to message objects. A frame carries one message object or a
 * JSON array of them (the server batches while a socket is busy); both come
 * out as an array, in order. Items that are not objects are skipped: they
 * cannot be messages, and one bad item must not cost the others.
 */

import type { RawMessage } from "./messages.js";

const utf8 = /* @__PURE__ */ new TextDecoder();

/**
 * The messages in one frame. `data` is the frame as a WebSocket delivers it: a
 * string for a text frame (browsers, the `ws` package), or bytes.
 *
 * @throws SyntaxError when the frame is not JSON.
 */
export function unpack(data: unknown): RawMessage[] {
  const text =
    typeof data === "string"
      ? data
      : data instanceof ArrayBuffer || ArrayBuffer.isView(data)
        ? utf8.decode(data)
        : String(data);
  const parsed: unknown = JSON.parse(text);
  const items: unknown[] = Array.isArray(parsed) ? parsed : [parsed];
  return items.filter((m): m is RawMessage => typeof m === "object" && m !== null && !Array.isArray(m));
}
