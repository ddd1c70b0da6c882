// The SDK's size as a browser app ships it: dist/ bundled into one file and
// minified by esbuild (pinned in package-lock.json), then gzipped at level 9.
// `npm run size` prints it; test/integration/package.test.js holds it under budget.
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

export async function measure() {
  const entry = fileURLToPath(new URL("../dist/index.js", import.meta.url));
  const out = await build({ entryPoints: [entry], bundle: true, minify: true, format: "esm", target: "es2022", write: false });
  const min = out.outputFiles[0].contents;
  return { minified: min.length, gzipped: gzipSync(min, { level: 9 }).length };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { minified, gzipped } = await measure();
  console.log(`ticker-client: ${minified} bytes minified, ${gzipped} bytes minified+gzipped (${(gzipped / 1024).toFixed(1)} KiB)`);
}
