import { EditorState } from "@codemirror/state";
import { describe, expect, it } from "vitest";
import { diagnosticsAt } from "./components/Editor";
import { problemOf, upstreamChoices } from "./notebook";
import { blockInfo } from "./testing";

const block = blockInfo;

describe("problemOf", () => {
  const p = { message: "SyntaxError", block: "shape", file: "blocks/x/shape.py", line: 3 };
  it("belongs to the block it names", () => {
    expect(problemOf(p, block("shape"), "")).toBe(p);
    expect(problemOf(p, block("other"), "blocks/x/other.py")).toBeNull();
  });
  it("belongs to the block whose file it names", () => {
    const q = { ...p, block: null };
    expect(problemOf(q, block("any"), "blocks/x/shape.py")).toBe(q);
    expect(problemOf(q, block("any"), "blocks/x/myshape.py")).toBeNull();
    expect(problemOf(null, block("shape"), "")).toBeNull();
  });
});

describe("upstreamChoices", () => {
  it("offers no block that would close a cycle", () => {
    const blocks = [block("a"), block("b", ["a"]), block("c", ["b"]), block("d")];
    expect(upstreamChoices(blocks[0], blocks).map((b) => b.name)).toEqual(["d"]);
    expect(upstreamChoices(blocks[2], blocks).map((b) => b.name)).toEqual(["a", "d"]);
  });
});

describe("diagnosticsAt", () => {
  const state = EditorState.create({ doc: "one\ntwo\nthree" });
  it("marks the whole line the error is on", () => {
    const [d] = diagnosticsAt(state, 2, "bad");
    expect(state.sliceDoc(d.from, d.to)).toBe("two");
    expect(d.severity).toBe("error");
  });
  it("keeps a line beyond the text inside it, and a missing line at the top", () => {
    expect(state.sliceDoc(diagnosticsAt(state, 99, "x")[0].from, diagnosticsAt(state, 99, "x")[0].to)).toBe("three");
    expect(diagnosticsAt(state, null, "x")[0].from).toBe(0);
    expect(diagnosticsAt(state, 1, null)).toEqual([]);
  });
});

import { backfillRuns } from "./components/BackfillForm";

describe("backfillRuns", () => {
  it("counts whole days and weeks, both ends included", () => {
    expect(backfillRuns("2021-01-01", "2021-01-31", "1d")).toBe(31);
    expect(backfillRuns("2021-01-01", "2021-01-31", "1w")).toBe(5);
    expect(backfillRuns("2021-01-01", "2021-01-01", "2d")).toBe(1);
  });
  it("leaves the rest to the server", () => {
    expect(backfillRuns("2021-01-01", "2021-03-01", "1mo")).toBeNull();
    expect(backfillRuns("2021-02-01", "2021-01-01", "1d")).toBeNull();
    expect(backfillRuns("", "2021-01-01", "1d")).toBeNull();
  });
});
