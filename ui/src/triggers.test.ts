import { describe, expect, it } from "vitest";
import { curlLine } from "./pages/Triggers";

describe("curlLine", () => {
  it("posts JSON with the bearer token to the trigger's route", () => {
    expect(curlLine("http://127.0.0.1:6789", "/api/pipelines/etl/triggers/hook/runs", "weft_abc")).toBe(
      `curl -X POST http://127.0.0.1:6789/api/pipelines/etl/triggers/hook/runs -H "Authorization: Bearer weft_abc" -H "Content-Type: application/json" -d '{}'`,
    );
  });
});
