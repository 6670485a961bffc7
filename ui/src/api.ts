// The server's JSON API, as the UI uses it. Every call carries the API token when the server
// asked for one (kept in this tab's session storage, asked for once).

/** Why a pipeline's files on disk do not load (the server runs the last version that did). */
export interface Problem {
  message: string;
  block: string | null;
  file: string | null;
  line: number | null;
}

/** The latest load of a pipeline's files. */
export interface LoadStatus {
  pipeline: string;
  generation: number;
  problem: Problem | null;
  loaded_at_ms: number;
}

/** A pipeline as `GET /api/pipelines` lists it. */
export interface PipelineSummary {
  name: string;
  description: string | null;
  blocks: number;
  max_active_runs: number | null;
  problem?: Problem | null;
  triggers: { name: string; type: string }[];
}

/** A block's source as it is on disk. */
export interface BlockSource {
  block: string;
  language: string;
  file: string;
  text: string;
  version: string;
  editable: boolean;
}

/** What a save or an edit of pipeline.yaml did. */
export interface Changed {
  version: string;
  problem: Problem | null;
}

/** The first rows of a block's output. */
export interface Preview {
  block: string;
  rows: number;
  columns: { name: string; type: string; nulls: number }[];
  head: Record<string, unknown>[];
}

/** What a block may touch. */
export interface Grants {
  urls?: string[];
  read?: string[];
  write?: string[];
  profiles?: string[];
  env?: string[];
  [other: string]: unknown;
}

/** A block of a pipeline. */
export interface BlockInfo {
  name: string;
  kind: string;
  language?: string;
  source?: string;
  upstream: string[];
  downstream: string[];
  retries: number;
  timeout_ms: number;
  memory_limit?: number | null;
  grants: Grants;
  dynamic?: boolean;
}

/** A pipeline with its DAG. */
export interface PipelineDetail {
  name: string;
  description: string | null;
  blocks: BlockInfo[];
  edges: { from: string; to: string }[];
  variables: Record<string, string>;
  triggers: unknown[];
  status?: LoadStatus | null;
}

export type RunStatus = "queued" | "running" | "success" | "failed" | "cancelled";

/** A run of a pipeline. */
export interface RunRecord {
  id: string;
  pipeline: string;
  status: RunStatus;
  trigger: string;
  variables: string;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  error: string | null;
}

/** One block (or fan-out child) of a run. */
export interface BlockRun {
  run_id: string;
  key: string;
  block: string;
  label: string | null;
  position: number;
  status: string;
  attempt: number;
  started_at: number | null;
  finished_at: number | null;
  rows: number | null;
  bytes: number | null;
  output: string | null;
  error: string | null;
  [other: string]: unknown;
}

/** A run with its block runs. */
export interface RunDetail extends RunRecord {
  blocks: BlockRun[];
  fan_outs: { block: string; children: number; statuses: Record<string, number> }[];
}

/** A log line. */
export interface LogLine {
  seq: number;
  block: string | null;
  attempt: number | null;
  at: number;
  level: string;
  message: string;
}

/** A trigger with its next tick. */
export interface TriggerView {
  pipeline: string;
  name: string;
  type: "schedule" | "api";
  description: string | null;
  cron: string | null;
  timezone: string | null;
  catch_up: string | null;
  next: string | null;
  last_tick: string | null;
  has_token: boolean;
  path: string | null;
  paused: boolean;
}

/** An error the API answered with. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const TOKEN_KEY = "weft.api_token";

/** The API token this tab uses, if any. */
export function token(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

/** Keep `value` as this tab's API token. */
export function setToken(value: string) {
  sessionStorage.setItem(TOKEN_KEY, value);
}

/** Headers every API call sends. */
export function authHeaders(): Record<string, string> {
  const t = token();
  return t ? { Authorization: `Bearer ${t}` } : {};
}

let onUnauthorized: () => void = () => {};

/** Called when the server refuses for want of a token. */
export function whenUnauthorized(f: () => void) {
  onUnauthorized = f;
}

/** The server refused for want of a token. */
export function unauthorized() {
  onUnauthorized();
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { ...authHeaders() };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!res.ok) {
    if (res.status === 401) onUnauthorized();
    const message =
      json && typeof json === "object" && "error" in json ? String((json as { error: unknown }).error) : text;
    throw new ApiError(res.status, message || res.statusText);
  }
  return json as T;
}

function blockPath(pipeline: string, block: string) {
  return `/api/pipelines/${encodeURIComponent(pipeline)}/blocks/${encodeURIComponent(block)}`;
}

/** The API's calls. */
export const api = {
  pipelines: () => call<{ pipelines: PipelineSummary[] }>("GET", "/api/pipelines"),
  pipeline: (name: string) => call<PipelineDetail>("GET", `/api/pipelines/${encodeURIComponent(name)}`),
  startRun: (name: string, variables: Record<string, string> = {}) =>
    call<{ run_id: string }>("POST", `/api/pipelines/${encodeURIComponent(name)}/runs`, variables),
  runs: (filter: { pipeline?: string; status?: string; trigger?: string; limit?: number; before?: string }) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(filter)) if (v !== undefined && v !== "") q.set(k, String(v));
    return call<{ runs: RunRecord[]; next_before: string | null }>("GET", `/api/runs?${q}`);
  },
  run: (id: string) => call<RunDetail>("GET", `/api/runs/${encodeURIComponent(id)}`),
  cancel: (id: string) => call<unknown>("POST", `/api/runs/${encodeURIComponent(id)}/cancel`),
  retry: (id: string) => call<unknown>("POST", `/api/runs/${encodeURIComponent(id)}/retry`),
  triggers: () => call<{ triggers: TriggerView[] }>("GET", "/api/triggers"),
  issueToken: (pipeline: string, trigger: string) =>
    call<{ token: string }>(
      "POST",
      `/api/pipelines/${encodeURIComponent(pipeline)}/triggers/${encodeURIComponent(trigger)}/token`,
    ),
  backfill: (pipeline: string, b: { start: string; end: string; every: string; concurrency: number }) =>
    call<{ runs: number; run_ids: string[] }>("POST", `/api/pipelines/${encodeURIComponent(pipeline)}/backfills`, b),
  source: (pipeline: string, block: string) =>
    call<BlockSource>("GET", `${blockPath(pipeline, block)}/source`),
  saveSource: (pipeline: string, block: string, text: string, version: string | null) =>
    call<Changed>("PUT", `${blockPath(pipeline, block)}/source`, { text, version }),
  runBlock: (pipeline: string, block: string) => call<{ run_id: string }>("POST", `${blockPath(pipeline, block)}/runs`),
  addBlock: (pipeline: string, block: { name: string; kind: string; language: string; upstream: string[] }) =>
    call<Changed>("POST", `/api/pipelines/${encodeURIComponent(pipeline)}/blocks`, block),
  setUpstream: (pipeline: string, block: string, upstream: string[]) =>
    call<Changed>("PUT", `${blockPath(pipeline, block)}/upstream`, { upstream }),
  preview: (run: string, block: string, limit = 50) =>
    call<Preview>("GET", `/api/runs/${encodeURIComponent(run)}/blocks/${encodeURIComponent(block)}/output?limit=${limit}`),
  pauseTrigger: (pipeline: string, trigger: string, paused: boolean) =>
    call<{ paused: boolean }>(
      "PUT",
      `/api/pipelines/${encodeURIComponent(pipeline)}/triggers/${encodeURIComponent(trigger)}/paused`,
      { paused },
    ),
  logs: (id: string, after = -1, block?: string) => {
    const q = new URLSearchParams({ after: String(after) });
    if (block) q.set("block", block);
    return call<{ logs: LogLine[]; next_after: number | null }>("GET", `/api/runs/${encodeURIComponent(id)}/logs?${q}`);
  },
};
