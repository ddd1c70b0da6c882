// The README's browser example, run as written against a real server: it must print
// whole quotes (no `undefined` for fields an update did not carry) at each symbol's decimals.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { sleep, startServer } from "../server.js";

const README = fileURLToPath(new URL("../../../../README.md", import.meta.url));
const WS = pathToFileURL(createRequire(import.meta.url).resolve("ws")).href;
const DIST = pathToFileURL(fileURLToPath(new URL("../../dist/index.js", import.meta.url))).href;

let server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

/** The first ```js block of the README's "Subscribe from a browser" section. */
function example() {
  const text = readFileSync(README, "utf8");
  const section = text.slice(text.indexOf("## Subscribe from a browser"));
  const m = /```js\n([\s\S]*?)```/.exec(section);
  assert.ok(m, "no js example in the README's browser section");
  return m[1];
}

test("the README's browser example prints merged quotes at the symbols' decimals", async () => {
  const code = example()
    .replace('from "ticker-client"', `from ${JSON.stringify(DIST)}`)
    .replaceAll("http://127.0.0.1:8080", server.base)
    .replaceAll("ws://127.0.0.1:8080/ws", server.url);
  const dir = mkdtempSync(join(tmpdir(), "ticker-readme-"));
  const file = join(dir, "example.mjs");
  writeFileSync(file, code);
  // A browser has a global WebSocket; Node 20 gets the `ws` package's, set before the example runs.
  const shim = join(dir, "websocket.mjs");
  writeFileSync(shim, `import WebSocket from ${JSON.stringify(WS)};\nglobalThis.WebSocket ??= WebSocket;\n`);
  const child = spawn(process.execPath, ["--import", pathToFileURL(shim).href, file], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (err += d));
  try {
    for (let i = 0; i < 150 && (out.match(/^(EURUSD|USDJPY) /gm) ?? []).length < 12; i++) await sleep(100);
  } finally {
    child.kill("SIGTERM");
  }
  const quotes = out.split("\n").filter((l) => /^(EURUSD|USDJPY) /.test(l));
  assert.ok(quotes.length >= 10, `too few quotes printed:\n${out}\n${err}`);
  for (const line of quotes) {
    assert.ok(!line.includes("undefined"), line);
    const [sym, , bid, ask] = line.split(" ");
    if (bid === "—") continue; // a symbol that has not ticked yet
    const places = sym === "USDJPY" ? 3 : 5;
    for (const p of [bid, ask]) assert.match(p, new RegExp(`^\\d+\\.\\d{${places}}$`), line);
  }
});
