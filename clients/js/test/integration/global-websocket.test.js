// Node's own WebSocket (undici; global from Node 22, behind --experimental-websocket on 20):
// the client needs no WebSocket option there, as in a browser.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { startServer } from "../server.js";

const CHILD = fileURLToPath(new URL("./global-websocket.child.js", import.meta.url));

test("with the runtime's own WebSocket: subscribe, snapshot, then updates", async (t) => {
  const flags = typeof globalThis.WebSocket === "function" ? [] : ["--experimental-websocket"];
  const probe = spawnSync(process.execPath, [...flags, "-e", "process.exit(typeof WebSocket === 'function' ? 0 : 3)"]);
  if (probe.status !== 0) {
    t.skip(`Node ${process.version} has no WebSocket of its own`);
    return;
  }
  const server = await startServer();
  t.after(() => server.stop());
  const r = spawnSync(process.execPath, ["--no-warnings", ...flags, CHILD, server.url], { encoding: "utf8", timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  const got = JSON.parse(r.stdout);
  assert.deepEqual(got.acked, ["EURUSD"]);
  assert.deepEqual(got.types.slice(0, 2), ["subscribed", "snapshot"]);
  assert.ok(got.seqs.length >= 3 && got.seqs.every((s, i) => i === 0 || s > got.seqs[i - 1]), JSON.stringify(got.seqs));
});
