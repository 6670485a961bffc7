import { describe, expect, it } from "vitest";
import type { BlockInfo, BlockRun, PipelineDetail, RunDetail } from "./api";
import { graphOf, humanBytes, humanDuration, statusesOf, summaryStatus, timeline } from "./graph";
import { blockInfo } from "./testing";

const block = blockInfo;

function pipeline(blocks: BlockInfo[], edges: PipelineDetail["edges"]): PipelineDetail {
  const notify = { on_failure: null, on_success: null };
  return { name: "p", description: null, concurrency: 4, max_active_runs: null, variables: {}, notify, triggers: [], status: null, blocks, edges };
}

function blockRun(key: string, status: BlockRun["status"], extra: Partial<BlockRun> = {}): BlockRun {
  const block = key.split("[")[0];
  return {
    run_id: "r",
    key,
    block,
    label: null,
    position: 0,
    status,
    attempt: 1,
    started_at: null,
    finished_at: null,
    rows: null,
    bytes: null,
    output: null,
    error: null,
    wake_at: null,
    first_at: null,
    peak_memory: null,
    ...extra,
  };
}

describe("graphOf", () => {
  it("has one node per block and one edge per upstream link", () => {
    const p = pipeline(
      [block("a"), block("b", ["a"]), block("c", ["a", "b"])],
      [
        { from: "a", to: "b" },
        { from: "a", to: "c" },
        { from: "b", to: "c" },
      ],
    );
    const g = graphOf(p);
    expect(g.nodes.map((n) => n.id)).toEqual(["a", "b", "c"]);
    expect(g.edges.map((e) => e.id)).toEqual(["a->b", "a->c", "b->c"]);
  });

  it("drops an edge naming a block the pipeline does not have", () => {
    const p = pipeline([block("a")], [{ from: "ghost", to: "a" }]);
    expect(graphOf(p).edges).toEqual([]);
  });
});

describe("statusesOf", () => {
  it("folds a fan-out's children into counts on one node", () => {
    const blocks = [
      blockRun("load", "success", { rows: 10 }),
      blockRun("each", "success"),
      ...Array.from({ length: 1000 }, (_, i) => blockRun(`each[${i}]`, i < 990 ? "success" : i < 995 ? "running" : "failed")),
    ];
    const s = statusesOf({ blocks });
    expect(s.size).toBe(2);
    expect(s.get("load")).toMatchObject({ status: "success", rows: 10 });
    expect(s.get("each")?.children).toEqual({ success: 990, running: 5, failed: 5 });
    expect(s.get("each")?.status).toBe("failed");
  });

  it("takes the server's fan-out counts over the children it was sent", () => {
    const s = statusesOf({
      blocks: [blockRun("each", "success"), blockRun("each[0]", "success")],
      fan_outs: [{ block: "each", children: 3000, statuses: { success: 2990, running: 10 } }],
    });
    expect(s.get("each")?.children).toEqual({ success: 2990, running: 10 });
    expect(s.get("each")?.status).toBe("running");
  });

  it("shows the children's progress while the parent waits for them", () => {
    const s = statusesOf({ blocks: [blockRun("each", "pending"), blockRun("each[0]", "success"), blockRun("each[1]", "running")] });
    expect(s.get("each")?.status).toBe("running");
  });

  it("keeps a parent's own failure over its children's successes", () => {
    const s = statusesOf({ blocks: [blockRun("each", "failed"), blockRun("each[0]", "success")] });
    expect(s.get("each")?.status).toBe("failed");
  });
});

describe("summaryStatus", () => {
  const cases: [Record<string, number>, string][] = [
    [{ success: 3 }, "success"],
    [{ success: 3, running: 1 }, "running"],
    [{ success: 3, failed: 1, running: 2 }, "failed"],
    [{ skipped: 2, success: 1 }, "skipped"],
    [{}, "pending"],
  ];
  it.each(cases)("%j shows %s", (counts, expected) => expect(summaryStatus(counts)).toBe(expected));
});

describe("figures", () => {
  it.each([
    [0, "0 B"],
    [1023, "1023 B"],
    [1536, "1.5 KiB"],
    [180 * 1024 * 1024, "180 MiB"],
  ])("humanBytes(%d) = %s", (n, s) => expect(humanBytes(n)).toBe(s));
  it.each([
    [12, "12 ms"],
    [1500, "1.50 s"],
    [61_000, "1 min 1 s"],
    [1_800_000, "30 min"],
    [7_200_000, "2 h"],
    [3_700_000, "1 h 1 min"],
  ])("humanDuration(%d) = %s", (n, s) => expect(humanDuration(n)).toBe(s));
});

describe("timeline", () => {
  it("places block runs from the run's start and ends running ones now", () => {
    const run = {
      id: "r",
      pipeline: "p",
      status: "running",
      trigger: "manual",
      variables: "{}",
      created_at: 900,
      started_at: 1000,
      finished_at: null,
      error: null,
      fan_outs: [],
      attempts: [],
      blocks: [
        blockRun("a", "success", { started_at: 1000, finished_at: 1500 }),
        blockRun("b", "running", { started_at: 1500 }),
        blockRun("c", "pending"),
      ],
    } satisfies RunDetail;
    const t = timeline(run, 2000);
    expect(t.bars.map((b) => [b.key, b.start, b.end])).toEqual([
      ["a", 0, 500],
      ["b", 500, 1000],
    ]);
    expect(t.span).toBe(1000);
  });

  it("puts earlier attempts on their block run's row and its peak against its limit", () => {
    const run: RunDetail = {
      id: "r",
      pipeline: "p",
      status: "success",
      trigger: "manual",
      variables: "{}",
      created_at: 1000,
      started_at: 1000,
      finished_at: 9000,
      error: null,
      fan_outs: [],
      attempts: [
        { key: "a", attempt: 1, started_at: 1000, finished_at: 1200, status: "retrying", error: "boom", peak_memory: 5 },
        { key: "a", attempt: 2, started_at: 1300, finished_at: 1500, status: "failed", error: "boom", peak_memory: null },
      ],
      blocks: [blockRun("a", "success", { attempt: 3, started_at: 8000, finished_at: 12000, peak_memory: 900 })],
    };
    const t = timeline(run, 20000, new Map([["a", 1000]]));
    const [a] = t.bars;
    expect(a.earlier.map((e) => [e.attempt, e.status, e.start, e.end])).toEqual([
      [1, "retrying", 0, 200],
      [2, "failed", 300, 500],
    ]);
    expect([a.peak, a.limit]).toEqual([900, 1000]);
    // A retried block run that ended after the run's first end widens the axis.
    expect(t.span).toBe(11000);
  });
});
