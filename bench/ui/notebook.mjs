// Times "run block" in the notebook, headless Chromium: a click on ▶ of a Python transformer
// over 100,000 rows until the first rows of its output are on screen — as it is, and right
// after an edit (the save loads the edit into the shared runner; the block's own build runs
// behind it). Run by bench/ui/run.sh.

import { createRequire } from "node:module";

const require = createRequire(new URL("../../ui/package.json", import.meta.url));
const { chromium } = require("playwright-core");
const base = process.env.WEFT_URL;
const rounds = Number(process.env.ROUNDS ?? 5);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: ["--no-sandbox"] });
const page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
const cell = "[data-testid=cell-shape]";

// The upstream output comes from a run of the whole pipeline.
const started = await (await fetch(`${base}/api/pipelines/preview/runs`, { method: "POST" })).json();
for (;;) {
  const run = await (await fetch(`${base}/api/runs/${started.run_id}`)).json();
  if (run.status === "success") break;
  if (!["queued", "running"].includes(run.status)) throw new Error(`the pipeline run ${run.status}: ${run.error}`);
  await new Promise((r) => setTimeout(r, 100));
}

async function runOnce() {
  await page.goto(`${base}/pipelines/preview/edit`);
  await page.waitForSelector(`${cell} .cm-content`);
  const t = Date.now();
  await page.click(`${cell} [data-testid=run-block]`);
  await page.waitForSelector(`${cell} [data-testid=preview] tbody tr`, { timeout: 120000 });
  return Date.now() - t;
}

async function editOnce(i) {
  await page.goto(`${base}/pipelines/preview/edit`);
  await page.waitForSelector(`${cell} .cm-content`);
  await page.click(`${cell} .cm-content`);
  await page.keyboard.press("Control+End");
  await page.keyboard.insertText(`\n# edit ${i} ${Date.now()}\n`);
  const t = Date.now();
  await page.click(`${cell} [data-testid=run-block]`);
  await page.waitForSelector(`${cell} [data-testid=preview] tbody tr`, { timeout: 180000 });
  return Date.now() - t;
}

await runOnce();
const plain = [];
for (let i = 0; i < rounds; i++) plain.push(await runOnce());
const edited = [];
for (let i = 0; i < Math.min(rounds, 3); i++) edited.push(await editOnce(i));
await browser.close();
console.log(`run block → preview, Python transformer on 100,000 rows: ${median(plain)} ms (median of ${rounds}); after an edit (save, run from its source while its build runs): ${median(edited)} ms (median of ${edited.length})`);
