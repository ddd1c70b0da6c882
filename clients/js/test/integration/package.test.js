// The package as it is published and as the quote board serves it.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { measure } from "../../scripts/size.mjs";

const ROOT = fileURLToPath(new URL("../../", import.meta.url)); // clients/js/
const REPO = join(ROOT, "../..");
const BOARD_COPY = join(REPO, "ticker/server/web/sdk");
const TSC = join(ROOT, "node_modules/typescript/bin/tsc");
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));

function run(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", timeout: 120_000 });
  assert.equal(r.status, 0, `${cmd} ${args.join(" ")} failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

test("the package's version is the Python package's", () => {
  const py = readFileSync(join(REPO, "ticker/__init__.py"), "utf8");
  const version = /^__version__ = "([^"]+)"/m.exec(py)?.[1];
  assert.ok(version, "ticker/__init__.py has no __version__");
  assert.equal(pkg.version, version);
  const lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8"));
  assert.equal(lock.version, version);
  assert.equal(lock.packages[""].version, version);
});

test("the package has no runtime dependencies", () => {
  assert.equal(pkg.dependencies, undefined);
  assert.equal(pkg.peerDependencies, undefined);
});

test("the SDK the quote board serves (ticker/server/web/sdk) is exactly a fresh tsc build (else: make sdk)", () => {
  const out = mkdtempSync(join(tmpdir(), "ticker-sdk-build-"));
  run(process.execPath, [TSC, "-p", "tsconfig.json", "--outDir", out, "--declaration", "false"], ROOT);
  const fresh = readdirSync(out).filter((f) => f.endsWith(".js")).sort();
  const committed = readdirSync(BOARD_COPY).sort();
  assert.deepEqual(committed, fresh);
  for (const name of fresh) {
    assert.equal(readFileSync(join(BOARD_COPY, name), "utf8"), readFileSync(join(out, name), "utf8"), `ticker/server/web/sdk/${name} is stale: run make sdk`);
  }
});

test("minified and gzipped, the SDK stays under 10 KB", async () => {
  const { gzipped } = await measure();
  assert.ok(gzipped < 10 * 1024, `${gzipped} bytes gzipped`);
});

test("npm pack makes a tarball that installs and imports in a clean folder, types included", () => {
  const dir = mkdtempSync(join(tmpdir(), "ticker-sdk-pack-"));
  const [packed] = JSON.parse(run("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", dir], ROOT));
  const files = packed.files.map((f) => f.path).sort();
  assert.ok(files.includes("dist/index.js") && files.includes("dist/index.d.ts") && files.includes("LICENSE"));
  assert.deepEqual(files.filter((f) => !/^(dist\/[a-z]+\.(js|d\.ts)|package\.json|README\.md|LICENSE)$/.test(f)), []);

  const app = join(dir, "app");
  mkdirSync(app);
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", version: "1.0.0", type: "module", private: true }));
  run("npm", ["install", "--offline", "--no-audit", "--no-fund", "--ignore-scripts", join(dir, packed.filename)], app);
  const got = run(process.execPath, ["--input-type=module", "-e", `
    import { connect, QuoteBook, backoff, TickerError } from "ticker-client";
    const book = new QuoteBook();
    book.apply({ type: "snapshot", symbol: "EURUSD", seq: 1, bid: 1, ask: 2, bid_size: 1, ask_size: 1, ts: 0, status: "live" });
    let threw = "";
    try { connect("ws://127.0.0.1:9/ws"); } catch (e) { threw = e.constructor.name; }
    console.log(JSON.stringify({ ask: book.get("EURUSD").ask, delay: backoff({ random: () => 1 }).next().value,
      error: typeof TickerError, threw }));
  `], app);
  assert.deepEqual(JSON.parse(got), { ask: 2, delay: 500, error: "function", threw: "TypeError" }); // Node 20: no WebSocket given

  // A TypeScript project resolves the types through the package's exports.
  writeFileSync(join(app, "main.ts"), `import { connect, type Quote } from "ticker-client";\n` +
    `export const f = (q: Quote): number | null => q.bid;\nexport const c = connect;\n`);
  writeFileSync(join(app, "tsconfig.json"), JSON.stringify({ compilerOptions: { module: "NodeNext", moduleResolution: "NodeNext",
    target: "ES2022", lib: ["ES2022"], types: [], strict: true, noEmit: true }, files: ["main.ts"] }));
  run(process.execPath, [TSC, "-p", join(app, "tsconfig.json")], app);
});
