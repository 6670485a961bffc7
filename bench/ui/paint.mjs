// Times the pipeline page of a 10-block and a 1,000-block pipeline in headless Chromium:
// from navigation start to the first node drawn, and a click on a node until its panel shows.
// Run by bench/ui/run.sh.

import { createRequire } from "node:module";

const require = createRequire(new URL("../../ui/package.json", import.meta.url));
const { chromium } = require("playwright-core");
const base = process.env.WEFT_URL;
const rounds = Number(process.env.ROUNDS ?? 5);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: ["--no-sandbox"] });
const page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();

async function once(name) {
  await page.goto("about:blank");
  await page.goto(`${base}/pipelines/${name}`);
  await page.waitForSelector(".react-flow__node");
  const paint = await page.evaluate(() => performance.now());
  const t = Date.now();
  await page.locator(".react-flow__node").first().click();
  await page.waitForSelector("[data-testid=block-panel]");
  return { paint, click: Date.now() - t };
}

const results = {};
for (const name of ["ten", "thousand"]) {
  await once(name);
  const runs = [];
  for (let i = 0; i < rounds; i++) runs.push(await once(name));
  results[name] = { paint: median(runs.map((r) => r.paint)), click: median(runs.map((r) => r.click)) };
}
await browser.close();
const r = results;
console.log(`paint: 1,000 blocks ${r.thousand.paint.toFixed(0)} ms, 10 blocks ${r.ten.paint.toFixed(0)} ms (×${(r.thousand.paint / r.ten.paint).toFixed(2)}), medians of ${rounds}`);
console.log(`click: a node of the 1,000-block graph to its panel ${r.thousand.click} ms (10 blocks: ${r.ten.click} ms)`);
