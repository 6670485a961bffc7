// One run: its status, a timeline of its block runs, each block's figures, and its log
// (live while the run goes on). Cancel and retry act on the server; the page only shows
// what the server says.

import { useCallback, useEffect, useMemo, useState } from "react";
import { Link, useSearch } from "wouter";
import { api, type LogLine, type PipelineDetail, type RunDetail } from "../api";
import { ErrorBox, Header, StatusBadge, Time } from "../components";
import { Gantt } from "../components/Gantt";
import { LogView } from "../components/LogView";
import { humanBytes, humanDuration } from "../graph";
import { useLogEvents, useRunEvents } from "../live";

const LIVE = new Set(["queued", "running"]);

export function RunPage({ id }: { id: string }) {
  const search = new URLSearchParams(useSearch());
  const [run, setRun] = useState<RunDetail | null>(null);
  const [lines, setLines] = useState<LogLine[]>([]);
  const [after, setAfter] = useState<number | null>(null);
  const [block, setBlock] = useState<string>(search.get("block") ?? "");
  const [error, setError] = useState<unknown>(null);
  const [now, setNow] = useState(Date.now());
  const [pipeline, setPipeline] = useState<PipelineDetail | null>(null);

  const load = useCallback(() => {
    api.run(id).then(setRun).catch(setError);
  }, [id]);

  // The log so far, a page at a time, then live lines after it.
  useEffect(() => {
    let stop = false;
    setLines([]);
    setAfter(null);
    (async () => {
      let cursor = -1;
      const all: LogLine[] = [];
      for (;;) {
        const page = await api.logs(id, cursor);
        all.push(...page.logs);
        if (stop) return;
        if (page.logs.length < 1000 || page.next_after === null) break;
        cursor = page.next_after;
        setLines([...all]);
      }
      setLines(all);
      setAfter(all.length ? all[all.length - 1].seq : -1);
    })().catch(setError);
    return () => {
      stop = true;
    };
  }, [id]);

  useEffect(load, [load]);
  // The blocks' memory limits, to show each block's peak against its own.
  const pipelineName = run?.pipeline;
  useEffect(() => {
    if (!pipelineName) return;
    api.pipeline(pipelineName).then(setPipeline).catch(() => setPipeline(null));
  }, [pipelineName]);
  const limits = useMemo(() => new Map((pipeline?.blocks ?? []).map((b) => [b.name, b.memory_limit])), [pipeline]);
  useRunEvents((r) => {
    if (r.id === id) setRun(r);
  }, load);
  useLogEvents(after === null ? null : id, after ?? -1, (l) => setLines((cur) => (cur.length && cur[cur.length - 1].seq >= l.seq ? cur : [...cur, l])));

  const live = run ? LIVE.has(run.status) : false;
  useEffect(() => {
    if (!live) return;
    const t = setInterval(() => setNow(Date.now()), 500);
    return () => clearInterval(t);
  }, [live]);

  async function act(f: () => Promise<unknown>) {
    try {
      setError(null);
      await f();
      load();
    } catch (e) {
      setError(e);
    }
  }

  const shownLines = block ? lines.filter((l) => l.block === block) : lines;
  const failed = run?.blocks.some((b) => b.status === "failed" || b.status === "upstream_failed" || b.status === "cancelled");

  return (
    <main className="page">
      <Header
        title={
          <>
            <Link href="/runs" className="muted">
              Runs
            </Link>{" "}
            / <code>{id}</code>
          </>
        }
        sub={
          run ? (
            <>
              <Link href={`/pipelines/${encodeURIComponent(run.pipeline)}`}>{run.pipeline}</Link> · {run.trigger} · created <Time ms={run.created_at} />
              {run.started_at ? ` · ${humanDuration((run.finished_at ?? now) - run.started_at)}` : ""}
            </>
          ) : (
            "loading…"
          )
        }
      >
        {run ? <StatusBadge status={run.status} /> : null}
        <button disabled={!live} onClick={() => act(() => api.cancel(id))} data-testid="cancel">
          Cancel
        </button>
        <button disabled={live || !failed} onClick={() => act(() => api.retry(id))} data-testid="retry">
          Retry failed blocks
        </button>
      </Header>
      <ErrorBox error={error} />
      {run?.error ? <pre className="error-box">{run.error}</pre> : null}
      {run ? (
        <>
          <section>
            <h2>Timeline</h2>
            <Gantt run={run} now={now} limits={limits} onPick={setBlock} />
          </section>
          <section>
            <h2>Blocks</h2>
            <table className="grid" data-testid="block-runs">
              <thead>
                <tr>
                  <th>Block</th>
                  <th>Status</th>
                  <th className="num">Attempt</th>
                  <th className="num">Duration</th>
                  <th className="num">Rows</th>
                  <th className="num">Output</th>
                  <th className="num">Peak memory</th>
                  <th>Error</th>
                </tr>
              </thead>
              <tbody>
                {run.blocks.slice(0, 1000).map((b) => (
                  <tr key={b.key} data-block={b.key} className={b.block === block ? "picked" : ""} onClick={() => setBlock(b.block === block ? "" : b.block)}>
                    <td>{b.key}</td>
                    <td>
                      <StatusBadge status={b.status} />
                    </td>
                    <td className="num">{b.attempt}</td>
                    <td className="num">{b.started_at ? humanDuration((b.finished_at ?? now) - b.started_at) : ""}</td>
                    <td className="num">{b.rows?.toLocaleString() ?? ""}</td>
                    <td className="num">{humanBytes(b.bytes)}</td>
                    <td className="num" title={limits.get(b.block) ? `limit ${humanBytes(limits.get(b.block))}` : ""}>
                      {humanBytes(b.peak_memory)}
                    </td>
                    <td className="clip error-text">{b.error ?? ""}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
        </>
      ) : null}
      <section>
        <h2>
          Log{block ? ` of ${block}` : ""}{" "}
          {block ? (
            <button className="link" onClick={() => setBlock("")}>
              show all blocks
            </button>
          ) : null}
        </h2>
        <LogView lines={shownLines} live={live} />
      </section>
    </main>
  );
}
