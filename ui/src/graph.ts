// What the pipeline page draws, computed from the API's answers: pure functions, tested on
// their own (graph.test.ts).

import type { BlockInfo, BlockRun, PipelineDetail, RunDetail } from "./api";

/** Status shown on a node: a block's own, or for a fan-out the count of children per status. */
export interface NodeStatus {
  status: string;
  /** For a fan-out: children per status. */
  children?: Record<string, number>;
  attempt?: number;
  rows?: number | null;
  started_at?: number | null;
  finished_at?: number | null;
  error?: string | null;
}

/** One node: a block. */
export interface GraphNode {
  id: string;
  block: BlockInfo;
}

/** One edge: upstream → downstream. */
export interface GraphEdge {
  id: string;
  source: string;
  target: string;
}

/** Nodes and edges of a pipeline (one node per block, whatever its fan-out). */
export function graphOf(p: PipelineDetail): { nodes: GraphNode[]; edges: GraphEdge[] } {
  const names = new Set(p.blocks.map((b) => b.name));
  const nodes = p.blocks.map((block) => ({ id: block.name, block }));
  const edges = p.edges
    .filter((e) => names.has(e.from) && names.has(e.to))
    .map((e) => ({ id: `${e.from}->${e.to}`, source: e.from, target: e.to }));
  return { nodes, edges };
}

/** Order in which a status wins when a fan-out's children disagree. */
const PRECEDENCE = ["failed", "running", "retrying", "waiting", "queued", "pending", "cancelled", "skipped", "success"];

/** A fan-out's own status that tells more than its children's. */
const PARENT_WINS = new Set(["failed", "upstream", "cancelled", "running", "retrying", "skipped"]);

/** The status a fan-out shows for children in `counts`. */
export function summaryStatus(counts: Record<string, number>): string {
  for (const s of PRECEDENCE) if ((counts[s] ?? 0) > 0) return s;
  const any = Object.keys(counts).find((s) => counts[s] > 0);
  return any ?? "pending";
}

/** Each block's status in `run`: a fan-out's children folded into counts (the server's
 * `fan_outs` counts, which cover children a live event leaves out, when it sent them). */
export function statusesOf(run: Pick<RunDetail, "blocks"> & Partial<Pick<RunDetail, "fan_outs">>): Map<string, NodeStatus> {
  const out = new Map<string, NodeStatus>();
  const children = new Map<string, BlockRun[]>();
  for (const b of run.blocks) {
    if (b.key !== b.block) {
      const list = children.get(b.block) ?? [];
      list.push(b);
      children.set(b.block, list);
    } else {
      out.set(b.block, {
        status: b.status,
        attempt: b.attempt,
        rows: b.rows,
        started_at: b.started_at,
        finished_at: b.finished_at,
        error: b.error,
      });
    }
  }
  const counted = new Map<string, Record<string, number>>();
  for (const [block, list] of children) {
    const counts: Record<string, number> = {};
    for (const c of list) counts[c.status] = (counts[c.status] ?? 0) + 1;
    counted.set(block, counts);
  }
  for (const f of run.fan_outs ?? []) counted.set(f.block, { ...f.statuses });
  for (const [block, counts] of counted) {
    const parent = out.get(block);
    out.set(block, {
      ...parent,
      status: parent && PARENT_WINS.has(parent.status) ? parent.status : summaryStatus(counts),
      children: counts,
    });
  }
  return out;
}

/** A short line of what a block may touch: the number of each kind of grant. */
export function grantSummary(b: BlockInfo): string[] {
  const g = b.grants ?? {};
  const parts: string[] = [];
  for (const [kind, value] of Object.entries(g)) {
    if (Array.isArray(value) && value.length > 0) parts.push(`${kind}: ${value.join(", ")}`);
  }
  return parts;
}

/** Bytes as a short human figure. */
export function humanBytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return "";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 || i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

/** Milliseconds as a short duration. */
export function humanDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || ms < 0) return "";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)} s`;
  const m = Math.floor(s / 60);
  const rest = Math.round(s - m * 60);
  if (m < 60) return rest ? `${m} min ${rest} s` : `${m} min`;
  return m % 60 ? `${Math.floor(m / 60)} h ${m % 60} min` : `${Math.floor(m / 60)} h`;
}

/** An attempt on a timeline, relative to the run's start, in ms. */
export interface Segment {
  attempt: number;
  status: string;
  start: number;
  end: number;
  error: string | null;
  peak: number | null;
}

/** Bars of a run's timeline: one per block run, relative to the run's start, in ms; its
 * earlier attempts (those that did not succeed) beside it on the same row. */
export interface Bar {
  key: string;
  block: string;
  status: string;
  start: number;
  end: number;
  attempt: number;
  rows: number | null;
  bytes: number | null;
  /** The most memory the latest attempt held at once, bytes. */
  peak: number | null;
  /** The block's memory limit, bytes, when known. */
  limit: number | null;
  earlier: Segment[];
}

/** The timeline of `run` at time `now` (running blocks end at `now`); `limits` are the
 * blocks' memory limits by block name. */
export function timeline(run: RunDetail, now: number, limits: ReadonlyMap<string, number> = new Map()): { bars: Bar[]; span: number } {
  const origin = run.started_at ?? run.created_at;
  const at = (ms: number) => Math.max(0, ms - origin);
  const earlier = new Map<string, Segment[]>();
  for (const a of run.attempts ?? []) {
    if (a.started_at === null) continue;
    const list = earlier.get(a.key) ?? [];
    list.push({
      attempt: a.attempt,
      status: a.status,
      start: at(a.started_at),
      end: at(a.finished_at ?? a.started_at),
      error: a.error,
      peak: a.peak_memory,
    });
    earlier.set(a.key, list);
  }
  const bars: Bar[] = [];
  let span = Math.max(1, (run.finished_at ?? now) - origin);
  for (const b of run.blocks) {
    if (b.started_at === null) continue;
    const bar: Bar = {
      key: b.key,
      block: b.block,
      status: b.status,
      start: at(b.started_at),
      end: at(b.finished_at ?? now),
      attempt: b.attempt,
      rows: b.rows,
      bytes: b.bytes,
      peak: b.peak_memory,
      limit: limits.get(b.block) ?? null,
      earlier: earlier.get(b.key) ?? [],
    };
    span = Math.max(span, bar.end);
    bars.push(bar);
  }
  return { bars, span };
}
