// Fixtures the unit tests share: API values with every field the generated types require.

import type { BlockInfo } from "./api";

/** A Python transformer reading `upstream`. */
export function blockInfo(name: string, upstream: string[] = []): BlockInfo {
  return {
    name,
    kind: "transformer",
    language: "python",
    source: `blocks/${name}.py`,
    upstream,
    downstream: [],
    retries: 0,
    timeout_ms: 1000,
    memory_limit: 1 << 30,
    read_limit: 1 << 30,
    dynamic: false,
    reduce: false,
    conditions: [],
    callbacks: [],
    grants: { urls: [], write: [], profiles: [], env: [] },
  };
}
