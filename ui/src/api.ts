// The server's JSON API, as the UI uses it: the types and the client are generated from the
// server's OpenAPI document (ui/openapi.json, kept equal to `/api/openapi.json` by a test;
// `npm run generate` writes src/schema.d.ts from it). Every call carries the API token when
// the server asked for one (kept in this tab's session storage, asked for once).

import createClient from "openapi-fetch";
import type { components, paths } from "./schema";

type Schemas = components["schemas"];

/** Why a pipeline's files on disk do not load (the server runs the last version that did). */
export type Problem = Schemas["Problem"];
/** The latest load of a pipeline's files. */
export type LoadStatus = Schemas["Status"];
/** A pipeline as `GET /api/pipelines` lists it. */
export type PipelineSummary = Schemas["PipelineSummary"];
/** A block's source as it is on disk. */
export type BlockSource = Schemas["BlockSource"];
/** What a save or an edit of pipeline.yaml did. */
export type Changed = Schemas["Changed"];
/** The first rows of a block's output. */
export type Preview = Schemas["Preview"];
/** What a block may touch. */
export type Grants = Schemas["GrantsView"];
/** A block of a pipeline. */
export type BlockInfo = Schemas["BlockView"];
/** A pipeline with its DAG. */
export type PipelineDetail = Schemas["PipelineDetail"];
/** A run's status. */
export type RunStatus = Schemas["RunStatus"];
/** A run of a pipeline. */
export type RunRecord = Schemas["RunRecord"];
/** One block (or fan-out child) of a run: its latest attempt. */
export type BlockRun = Schemas["BlockRunRecord"];
/** An earlier attempt of a block run that did not succeed. */
export type Attempt = Schemas["AttemptRecord"];
/** A run with its block runs. */
export type RunDetail = Schemas["RunDetail"];
/** A log line. */
export type LogLine = Schemas["LogRecord"];
/** A trigger with its next tick. */
export type TriggerView = Schemas["TriggerView"];

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

const client = createClient<paths>();
client.use({
  onRequest({ request }) {
    const t = token();
    if (t) request.headers.set("Authorization", `Bearer ${t}`);
    return request;
  },
  onResponse({ response }) {
    if (response.status === 401) onUnauthorized();
    return response;
  },
});

/** The data of an answer, or its error as an [`ApiError`]. */
async function ok<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok) {
    const message =
      error && typeof error === "object" && "error" in error ? String((error as { error: unknown }).error) : String(error ?? "");
    throw new ApiError(response.status, message || response.statusText);
  }
  return data as T;
}

const pipeline = (name: string) => ({ params: { path: { pipeline: name } } });
const block = (pipeline: string, block: string) => ({ params: { path: { pipeline, block } } });
const run = (id: string) => ({ params: { path: { id } } });
const trigger = (pipeline: string, trigger: string) => ({ params: { path: { pipeline, trigger } } });

/** The API's calls. */
export const api = {
  pipelines: () => ok(client.GET("/api/pipelines")),
  pipeline: (name: string) => ok(client.GET("/api/pipelines/{pipeline}", pipeline(name))),
  startRun: (name: string, variables: Record<string, string> = {}) =>
    ok(client.POST("/api/pipelines/{pipeline}/runs", { ...pipeline(name), body: variables })),
  runs: (filter: { pipeline?: string; status?: string; trigger?: string; limit?: number; before?: string }) => {
    const query = Object.fromEntries(Object.entries(filter).filter(([, v]) => v !== undefined && v !== ""));
    return ok(client.GET("/api/runs", { params: { query } }));
  },
  run: (id: string) => ok(client.GET("/api/runs/{id}", run(id))),
  cancel: (id: string) => ok(client.POST("/api/runs/{id}/cancel", run(id))),
  retry: (id: string) => ok(client.POST("/api/runs/{id}/retry", run(id))),
  triggers: () => ok(client.GET("/api/triggers")),
  issueToken: (p: string, t: string) => ok(client.POST("/api/pipelines/{pipeline}/triggers/{trigger}/token", trigger(p, t))),
  backfill: (p: string, b: { start: string; end: string; every: string; concurrency: number }) =>
    ok(client.POST("/api/pipelines/{pipeline}/backfills", { ...pipeline(p), body: b })),
  source: (p: string, b: string) => ok(client.GET("/api/pipelines/{pipeline}/blocks/{block}/source", block(p, b))),
  saveSource: (p: string, b: string, text: string, version: string) =>
    ok(client.PUT("/api/pipelines/{pipeline}/blocks/{block}/source", { ...block(p, b), body: { text, version } })),
  runBlock: (p: string, b: string) =>
    ok(client.POST("/api/pipelines/{pipeline}/blocks/{block}/runs", { ...block(p, b), body: {} })),
  addBlock: (p: string, b: { name: string; kind: string; language: string; upstream: string[] }) =>
    ok(client.POST("/api/pipelines/{pipeline}/blocks", { ...pipeline(p), body: b })),
  setUpstream: (p: string, b: string, upstream: string[]) =>
    ok(client.PUT("/api/pipelines/{pipeline}/blocks/{block}/upstream", { ...block(p, b), body: { upstream } })),
  preview: (id: string, b: string, limit = 50) =>
    ok(
      client.GET("/api/runs/{id}/blocks/{block}/output", {
        params: { path: { id, block: b }, query: { limit } },
      }),
    ),
  pauseTrigger: (p: string, t: string, paused: boolean) =>
    ok(client.PUT("/api/pipelines/{pipeline}/triggers/{trigger}/paused", { ...trigger(p, t), body: { paused } })),
  logs: (id: string, after = -1, b?: string) =>
    ok(client.GET("/api/runs/{id}/logs", { params: { path: { id }, query: { after, block: b } } })),
};
