// The web UI in headless Chromium against a real `weft serve` (started by the Rust test
// `browser.rs`, which passes WEFT_URL, WEFT_PROJECT and WEFT_SCREENSHOTS).

import { after, afterEach, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { parse } from "yaml";

const base = process.env.WEFT_URL;
const project = process.env.WEFT_PROJECT;
const shots = process.env.WEFT_SCREENSHOTS ?? "e2e/screenshots";
const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";
assert.ok(base && project, "WEFT_URL and WEFT_PROJECT must be set (run through `cargo test browser`)");
mkdirSync(shots, { recursive: true });

let browser;
let page;
const problems = [];

before(async () => {
  browser = await chromium.launch({ executablePath, args: ["--no-sandbox"] });
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  page = await context.newPage();
  page.on("pageerror", (e) => problems.push(`page error: ${e}`));
  // A script, style or worker the page's Content-Security-Policy refuses is a failure.
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy|Refused to/.test(m.text())) problems.push(m.text());
  });
});

// A failed test leaves a picture of the page it failed on.
afterEach(async (t) => {
  if (page && t.passed === false) await shot(`failed-${t.name.replace(/[^a-z0-9]+/gi, "-")}`).catch(() => {});
});

after(async () => {
  // A browser that will not close must not hold the run up.
  await Promise.race([browser?.close(), new Promise((r) => setTimeout(r, 5000))]);
});

const shot = (name) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: false });

/** Wait until run `id` has ended; its final record. */
async function ended(id) {
  for (let i = 0; i < 300; i++) {
    const run = await api("GET", `/api/runs/${id}`);
    if (!["queued", "running"].includes(run.status)) return run;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`run ${id} did not end`);
}

async function api(method, path) {
  const r = await fetch(base + path, { method, headers: method === "POST" ? { "Content-Type": "application/json" } : {} });
  return r.json();
}

test("the pipelines page lists every pipeline", async () => {
  await page.goto(base + "/");
  await page.waitForSelector("[data-pipeline=demo]");
  const names = await page.$$eval("[data-pipeline]", (rows) => rows.map((r) => r.getAttribute("data-pipeline")));
  assert.deepEqual(names.sort(), ["demo", "flaky", "long", "notebook", "thousand"]);
  await shot("pipelines");
});

test("a pipeline's graph has the YAML's blocks and edges", async () => {
  const yaml = parse(readFileSync(join(project, "pipelines/demo/pipeline.yaml"), "utf8"));
  const blocks = yaml.blocks.map((b) => b.name).sort();
  const edges = yaml.blocks.flatMap((b) => (b.upstream ?? []).map((u) => `${u}->${b.name}`)).sort();
  await page.goto(base + "/pipelines/demo");
  await page.waitForSelector(".react-flow__node[data-id=sink]");
  const nodes = await page.$$eval(".react-flow__node", (ns) => ns.map((n) => n.getAttribute("data-id")));
  assert.deepEqual(nodes.sort(), blocks);
  // React Flow draws one path per edge, labelled with its source and target.
  await page.waitForSelector(".react-flow__edge");
  const drawn = await page.$$eval(".react-flow__edge", (es) =>
    es.map((e) => e.getAttribute("data-testid")?.replace(/^rf__edge-/, "")),
  );
  assert.deepEqual(drawn.sort(), edges);
  // A node says its kind, language and grants.
  const slow = await page.textContent("[data-block=slow_step]");
  assert.match(slow, /transformer/);
  assert.match(slow, /wasm/);
});

test("a run started from the pipeline page changes statuses without a reload", async () => {
  await page.goto(base + "/pipelines/demo");
  await page.waitForSelector(".react-flow__node[data-id=sink]");
  const seen = new Set();
  await page.exposeFunction("weftSawStatus", (s) => seen.add(s));
  await page.evaluate(() => {
    const el = document.querySelector("[data-block=slow_step]");
    new MutationObserver(() => window.weftSawStatus(el.getAttribute("data-status"))).observe(el, { attributes: true });
  });
  await page.click("[data-testid=run-pipeline]");
  await page.waitForSelector("[data-block=slow_step][data-status=running]", { timeout: 20000 });
  await shot("pipeline");
  await page.waitForSelector("[data-block=sink][data-status=success]", { timeout: 60000 });
  assert.ok(seen.has("running"), `slow_step was never shown running: ${[...seen]}`);
  assert.ok(seen.has("success"), `slow_step was never shown done: ${[...seen]}`);
  const fanout = await page.textContent("[data-block=per_row] [data-testid=fanout]");
  assert.match(fanout, /5 success/);
});

test("a run's log is searched in the app, beyond what is on screen", async () => {
  const { runs } = await api("GET", "/api/runs?pipeline=demo&limit=1");
  assert.equal((await ended(runs[0].id)).status, "success");
  await page.goto(`${base}/runs/${runs[0].id}`);
  await page.waitForSelector("[data-testid=gantt]");
  // Every line is loaded (3,000 of chatter, the slow step's and the sink's), a page at a time.
  await page.waitForFunction(() => Number(document.querySelector("[data-testid=log-hits]")?.textContent?.split(" ")[0]) >= 3002);
  // 3,000 lines of chatter: only those in view are in the page.
  const inPage = await page.$$eval(".log-line", (ls) => ls.length);
  assert.ok(inPage < 200, `${inPage} log lines in the page`);
  const target = "sink finished its rows";
  assert.equal(await page.locator(".log-line", { hasText: target }).count(), 0, "the line was in view already");
  await page.fill("[data-testid=log-search]", target);
  await page.press("[data-testid=log-search]", "Enter");
  await page.waitForSelector(`.log-line.hit:has-text("${target}")`);
  assert.match(await page.textContent("[data-testid=log-hits]"), /^1 \/ 1$/);
  await shot("run");
});

test("a failed run is retried from its page and ends well", async () => {
  const { run_id } = await api("POST", "/api/pipelines/flaky/runs");
  await page.goto(`${base}/runs/${run_id}`);
  await page.waitForSelector(".page-header .badge[data-status=failed]", { timeout: 30000 });
  await page.click("[data-testid=retry]");
  await page.waitForSelector(".page-header .badge[data-status=success]", { timeout: 30000 });
  await page.waitForSelector("[data-block=flaky_step] .badge[data-status=success]");
  // The failed attempt stays on the timeline beside the one that succeeded, and each block
  // that ran a component shows the most memory it held against its limit.
  const earlier = page.locator("[data-testid=gantt] [data-testid=earlier-attempt]");
  await earlier.first().waitFor();
  assert.match(await earlier.first().getAttribute("title"), /^flaky_step, attempt 1: failed/);
  const peak = await page.locator("[data-testid=gantt] [data-testid=peak-memory]").first().getAttribute("title");
  assert.match(peak, /^peak memory [\d.]+ [KMG]iB of its [\d.]+ [KMG]iB limit$/);
  await shot("run-retried");
});

test("a running run is cancelled from its page", async () => {
  const { run_id } = await api("POST", "/api/pipelines/long/runs");
  await page.goto(`${base}/runs/${run_id}`);
  await page.waitForSelector(".page-header .badge[data-status=running]", { timeout: 30000 });
  await page.click("[data-testid=cancel]");
  await page.waitForSelector(".page-header .badge[data-status=cancelled]", { timeout: 30000 });
});

test("the runs page filters by status", async () => {
  await page.goto(`${base}/runs`);
  await page.waitForSelector("[data-run]");
  await page.selectOption("[data-testid=status-filter]", "cancelled");
  await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll("[data-run]")];
    return rows.length > 0 && rows.every((r) => r.querySelector("[data-status]")?.getAttribute("data-status") === "cancelled");
  });
  assert.match(page.url(), /status=cancelled/);
  await page.selectOption("[data-testid=status-filter]", "");
  const { runs } = await api("GET", "/api/runs");
  await page.waitForFunction((n) => document.querySelectorAll("[data-run]").length === n, runs.length);
  await shot("runs");
});

test("triggers show their next tick, and an API token is made and works", async () => {
  await page.goto(`${base}/triggers`);
  await page.waitForSelector("[data-trigger='demo/nightly']");
  const next = await page.getAttribute("[data-trigger='demo/nightly'] [data-testid=next] time", "datetime");
  const at = new Date(next);
  assert.equal(at.getUTCHours(), 4, next);
  assert.equal(at.getUTCMinutes(), 30, next);
  assert.ok(at.getTime() > Date.now() && at.getTime() <= Date.now() + 24 * 3600 * 1000, next);
  await page.click("[data-trigger='demo/hook'] [data-testid=issue]");
  const token = (await page.textContent("[data-testid=token]")).trim();
  assert.match(token, /^weft_[0-9a-f]{48}$/);
  assert.match(await page.textContent("[data-testid=curl]"), new RegExp(`Bearer ${token}`));
  await shot("triggers");
  const r = await fetch(`${base}/api/pipelines/demo/triggers/hook/runs`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: "{}",
  });
  assert.equal(r.status, 202);
  assert.equal((await r.json()).replayed, false);
  // The button now rotates.
  await page.waitForSelector("[data-trigger='demo/hook'] [data-testid=issue]:has-text('Rotate token')");

  // Paused, the trigger refuses calls; resumed, it takes them again.
  await page.click("[data-trigger='demo/hook'] [data-testid=pause]");
  await page.waitForSelector("[data-trigger='demo/hook'] [data-testid=pause]:has-text('Resume')");
  await page.waitForSelector("[data-trigger='demo/hook'] .badge:has-text('paused')");
  const call = () =>
    fetch(`${base}/api/pipelines/demo/triggers/hook/runs`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: "{}",
    });
  const refused = await call();
  assert.equal(refused.status, 409);
  assert.match((await refused.json()).error, /paused/);
  await page.click("[data-trigger='demo/hook'] [data-testid=pause]");
  await page.waitForSelector("[data-trigger='demo/hook'] [data-testid=pause]:has-text('Pause')");
  assert.equal((await call()).status, 202);
});

test("a 1,000-block pipeline opens and stays responsive", async () => {
  const t0 = Date.now();
  await page.goto(base + "/pipelines/thousand");
  await page.waitForSelector("[data-testid=graph][data-nodes='1000']", { timeout: 30000 });
  await page.waitForSelector(".react-flow__node");
  const opened = Date.now() - t0;
  // Only the nodes in view are drawn.
  const drawn = await page.$$eval(".react-flow__node", (ns) => ns.length);
  assert.ok(drawn > 0 && drawn <= 1000, `${drawn} nodes drawn`);
  // The page still answers: a click on a node opens its panel quickly.
  const t1 = Date.now();
  await page.locator(".react-flow__node").first().click();
  await page.waitForSelector("[data-testid=block-panel]");
  const answered = Date.now() - t1;
  console.log(`thousand: opened in ${opened} ms, a click answered in ${answered} ms, ${drawn} nodes drawn`);
  await shot("thousand");
});

/** The text of the editor in cell `block`. */
async function editorText(block) {
  // One `.cm-line` per line of the document (the editor draws every line of a short one).
  return page.$$eval(`[data-testid=cell-${block}] .cm-content .cm-line`, (ls) => ls.map((l) => l.textContent).join("\n"));
}

/** Replace the text of cell `block`'s editor with `text` and save it with Ctrl-S. */
async function editAndSave(block, text) {
  const cell = `[data-testid=cell-${block}]`;
  await page.click(`${cell} .cm-content`);
  await page.keyboard.press("Control+A");
  await page.keyboard.insertText(text);
  await page.waitForSelector(`${cell}[data-dirty=true]`);
  await page.keyboard.press("Control+S");
  await page.waitForSelector(`${cell}[data-dirty=false][data-busy=""]`, { timeout: 90000 });
}

const SHAPE = `"""Each row with its value doubled."""
from weft import col, transformer


@transformer
def shape(data, **kwargs):
    return data.with_column("doubled", col("value") * 2)
`;

test("a block is edited, saved, run with its preview, and a build error shown at its line", async () => {
  // The block runs on its upstream outputs from the latest run.
  const { run_id } = await api("POST", "/api/pipelines/notebook/runs");
  assert.equal((await ended(run_id)).status, "success");
  await page.goto(base + "/pipelines/notebook/edit");
  await page.waitForSelector("[data-testid=cell-shape] .cm-content");
  assert.match(await editorText("shape"), /return data\n/);

  await editAndSave("shape", SHAPE);
  assert.equal(readFileSync(join(project, "blocks/notebook/shape.py"), "utf8"), SHAPE);
  await page.reload();
  await page.waitForSelector("[data-testid=cell-shape] .cm-content");
  assert.equal(await editorText("shape"), SHAPE);

  await page.click("[data-testid=cell-shape] [data-testid=run-block]");
  await page.waitForSelector("[data-testid=cell-shape] [data-testid=preview]", { timeout: 60000 });
  const header = await page.$$eval("[data-testid=cell-shape] [data-testid=preview] th", (ths) => ths.map((t) => t.firstChild?.textContent));
  assert.deepEqual(header, ["id", "value", "doubled"]);
  assert.equal(await page.getAttribute("[data-testid=cell-shape] [data-testid=preview]", "data-rows"), "40");
  const cells = await page.$$eval("[data-testid=cell-shape] [data-testid=preview] tbody tr:nth-child(3) td", (tds) => tds.map((t) => t.textContent));
  assert.deepEqual(cells, ["2", "1", "2"]);
  await shot("notebook");

  // A syntax error on line 7: shown at its line, in the editor's gutter too.
  await editAndSave("shape", SHAPE.replace("* 2)", "*/ 2)"));
  await page.waitForSelector("[data-testid=cell-shape] [data-testid=build-error]");
  assert.equal(await page.getAttribute("[data-testid=cell-shape] [data-testid=build-error]", "data-line"), "7");
  await page.waitForSelector("[data-testid=cell-shape] .cm-lint-marker-error");
  await page.waitForSelector("[data-testid=pipeline-problem]");
  await shot("notebook-error");
  await editAndSave("shape", SHAPE);
  await page.waitForSelector("[data-testid=pipeline-problem]", { state: "detached", timeout: 30000 });
});

test("an edit made in another editor shows up in the notebook", async () => {
  await page.goto(base + "/pipelines/notebook/edit");
  await page.waitForSelector("[data-testid=cell-summary] .cm-content");
  const text = "SELECT count(*) AS n, max(doubled) AS top FROM {{ df_1 }}\n";
  writeFileSync(join(project, "blocks/notebook/summary.sql"), text);
  for (let i = 0; i < 100 && (await editorText("summary")) !== text; i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(await editorText("summary"), text);
});

test("a block is added and connected, editing pipeline.yaml", async () => {
  await page.goto(base + "/pipelines/notebook/edit");
  await page.waitForSelector("[data-testid=add-block]");
  await page.fill("[data-testid=add-block] input[placeholder]", "top_rows");
  await page.selectOption("[data-testid=add-block] select >> nth=1", "sql");
  await page.check("[data-testid=add-block] label.check:has-text('shape') input");
  await page.click("[data-testid=add-block] button[type=submit]");
  await page.waitForSelector("[data-testid=cell-top_rows] .cm-content", { timeout: 30000 });
  let yaml = parse(readFileSync(join(project, "pipelines/notebook/pipeline.yaml"), "utf8"));
  const added = yaml.blocks.find((b) => b.name === "top_rows");
  assert.deepEqual(added, { name: "top_rows", kind: "transformer", source: "blocks/notebook/top_rows.sql", upstream: ["shape"] });
  // `summary` reads the new block too.
  await page.selectOption("[data-testid=add-upstream-summary]", "top_rows");
  await page.waitForSelector("[data-testid=cell-summary] .chip:has-text('top_rows')");
  yaml = parse(readFileSync(join(project, "pipelines/notebook/pipeline.yaml"), "utf8"));
  assert.deepEqual(yaml.blocks.find((b) => b.name === "summary").upstream, ["shape", "top_rows"]);
  // The graph draws it.
  await page.goto(base + "/pipelines/notebook");
  await page.waitForSelector(".react-flow__node[data-id=top_rows]");
  await shot("notebook-graph");
});

test("a backfill is started from the pipeline page", async () => {
  await page.goto(base + "/pipelines/flaky");
  await page.click("[data-testid=backfill]");
  await page.fill("[data-testid=backfill-form] input[type=date] >> nth=0", "2021-01-01");
  await page.fill("[data-testid=backfill-form] input[type=date] >> nth=1", "2021-01-03");
  assert.equal((await page.textContent("[data-testid=start-backfill]")).trim(), "Start 3 runs");
  await shot("backfill");
  await page.click("[data-testid=start-backfill]");
  await page.waitForURL(/\/runs\?pipeline=flaky&trigger=backfill/);
  const runs = await api("GET", "/api/runs?pipeline=flaky&trigger=backfill");
  assert.equal(runs.runs.length, 3);
  const dates = runs.runs.map((r) => JSON.parse(r.variables).execution_date.slice(0, 10)).sort();
  assert.deepEqual(dates, ["2021-01-01", "2021-01-02", "2021-01-03"]);
});

test("unknown API paths answer JSON 404 and the page is not cached", async () => {
  const r = await fetch(base + "/api/nope");
  assert.equal(r.status, 404);
  assert.match(r.headers.get("content-type"), /json/);
  const html = await fetch(base + "/runs/whatever", { headers: { "Accept-Encoding": "gzip" } });
  assert.equal(html.status, 200);
  assert.equal(html.headers.get("cache-control"), "no-cache");
  assert.match(html.headers.get("content-security-policy"), /default-src 'self'/);
  assert.equal(html.headers.get("x-frame-options"), "DENY");
  const text = await html.text();
  const asset = text.match(/\/assets\/[^"]+\.js/)[0];
  const a = await fetch(base + asset, { headers: { "Accept-Encoding": "gzip" } });
  assert.equal(a.headers.get("cache-control"), "public, max-age=31536000, immutable");
  assert.equal(a.headers.get("content-encoding"), "gzip");
});

// Last: everything the pages did above raised no script error and broke no security policy.
test("the page raised no script error and broke no security policy", () => {
  assert.deepEqual(problems, []);
});
