// The rules in WebAssembly next to the browser bench's JavaScript baseline, in one Node
// process (the V8 of Chromium, without a page, a worker or WebDriver around them): run by
// `scripts/bench-wasm`, which builds `shared/examples/wasm_bench.rs`.
//
// Usage: node shared/benches/wasm.mjs WASM [RUNS] [ROWS] [admin|teacher|unknown-users]
// The two are run alternately, RUNS times each (default 15), on the same file and snapshot;
// every time is printed (the first is the first check of a fresh module), then the best and
// the median of each and their ratio. The JavaScript baseline runs only with the admin's
// snapshot (the default): it neither hashes identifiers nor reports unknown users.

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const [wasmPath, runsArg, rowsArg, variantArg] = process.argv.slice(2);
const variants = ["admin", "teacher", "unknown-users"];
const variant = variants.indexOf(variantArg || "admin");
if (!wasmPath || variant < 0) {
  console.error("usage: node shared/benches/wasm.mjs WASM [RUNS] [ROWS] [admin|teacher|unknown-users]");
  process.exit(2);
}
const runs = Number(runsArg || 15);
const rows = Number(rowsArg || 100000);

const require = createRequire(join(root, "tests", "package.json"));
globalThis.Papa = require("papaparse");
const baseline = new Function(readFileSync(join(root, "tests", "benches", "js_baseline.js"), "utf8"));

const { instance } = await WebAssembly.instantiate(readFileSync(wasmPath), {});
const wasm = instance.exports;
wasm.bench_prepare(rows, variant);
const text = (which) =>
  new TextDecoder().decode(
    new Uint8Array(wasm.memory.buffer, wasm.bench_text_at(which), wasm.bench_text_len(which)),
  );
const file = text(0);
const snapshotJson = text(1);

const times = { wasm: [], js: [] };
let operations = { wasm: 0, js: 0 };
for (let run = 0; run < runs; run++) {
  const t0 = performance.now();
  operations.wasm = wasm.bench_check();
  times.wasm.push(performance.now() - t0);
  if (variant === 0) {
    baseline(file, snapshotJson, (answer) => {
      times.js.push(answer.ms);
      operations.js = answer.operations;
    });
  }
}
if ((operations.wasm < 0) !== (variant === 2)) {
  console.error(`the WASM check answered ${operations.wasm} (operations, or minus the errors)`);
  process.exit(1);
}

const median = (list) => {
  const sorted = [...list].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};
const best = (list) => Math.min(...list);
const ms = (list) => list.map((t) => t.toFixed(1)).join(" ");
console.log(`node ${process.version}; ${variants[variant]}'s snapshot; ${rows} rows (${(file.length / 1e6).toFixed(2)} MB), snapshot ${(snapshotJson.length / 1e6).toFixed(1)} MB of JSON`);
const answered = operations.wasm < 0 ? `${-operations.wasm} errors` : `${operations.wasm} operations`;
console.log(`WASM check + dry run (${answered}), ms: ${ms(times.wasm)}`);
if (variant === 0) {
  console.log(`JavaScript baseline (${operations.js} operations), ms: ${ms(times.js)}`);
  console.log(
    `best: WASM ${best(times.wasm).toFixed(1)} ms, JS ${best(times.js).toFixed(1)} ms, WASM / JS speed ${(best(times.js) / best(times.wasm)).toFixed(2)}x; ` +
      `median: WASM ${median(times.wasm).toFixed(1)} ms, JS ${median(times.js).toFixed(1)} ms, ${(median(times.js) / median(times.wasm)).toFixed(2)}x`,
  );
} else {
  console.log(`best: WASM ${best(times.wasm).toFixed(1)} ms; median: ${median(times.wasm).toFixed(1)} ms`);
}
