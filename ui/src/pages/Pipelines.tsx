// Every pipeline the server runs, with its latest run.

import { useCallback, useEffect, useState } from "react";
import { Link, useLocation } from "wouter";
import { api, type PipelineSummary, type RunRecord } from "../api";
import { ErrorBox, Header, StatusBadge, Time } from "../components";
import { useRunEvents } from "../live";

export function PipelinesPage() {
  const [pipelines, setPipelines] = useState<PipelineSummary[] | null>(null);
  const [latest, setLatest] = useState<Record<string, RunRecord>>({});
  const [error, setError] = useState<unknown>(null);
  const [, navigate] = useLocation();

  const load = useCallback(() => {
    api
      .pipelines()
      .then(async (r) => {
        setPipelines(r.pipelines);
        const recent = await api.runs({ limit: 200 });
        const by: Record<string, RunRecord> = {};
        for (const run of recent.runs) by[run.pipeline] ??= run;
        setLatest(by);
      })
      .catch(setError);
  }, []);
  useEffect(load, [load]);
  useRunEvents(
    (run) =>
      setLatest((l) => {
        const cur = l[run.pipeline];
        return !cur || cur.id === run.id || run.created_at >= cur.created_at ? { ...l, [run.pipeline]: run } : l;
      }),
    load,
  );

  async function start(name: string) {
    try {
      const { run_id } = await api.startRun(name);
      navigate(`/runs/${run_id}`);
    } catch (e) {
      setError(e);
    }
  }

  return (
    <main className="page">
      <Header title="Pipelines" sub={pipelines ? `${pipelines.length} pipelines` : "loading…"} />
      <ErrorBox error={error} />
      <table className="grid" data-testid="pipelines">
        <thead>
          <tr>
            <th>Name</th>
            <th>Description</th>
            <th className="num">Blocks</th>
            <th>Triggers</th>
            <th>Latest run</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {pipelines?.map((p) => {
            const run = latest[p.name];
            return (
              <tr key={p.name} data-pipeline={p.name}>
                <td>
                  <Link href={`/pipelines/${encodeURIComponent(p.name)}`} className="strong">
                    {p.name}
                  </Link>
                </td>
                <td className="clip">
                  {p.problem ? (
                    <span className="error-text" title={p.problem.message} data-testid="pipeline-problem">
                      {p.loaded ? "its files on disk do not load; runs use the version loaded before" : "does not load"}:{" "}
                      {p.problem.message.split("\n")[0]}
                    </span>
                  ) : (
                    <span className="muted">{p.description}</span>
                  )}
                </td>
                <td className="num">{p.blocks}</td>
                <td>
                  {p.triggers.map((t) => (
                    <span key={t.name} className="chip" title={t.type === "schedule" ? "a schedule" : "an API trigger"}>
                      {t.name} <span className="muted">{t.type}</span>
                    </span>
                  ))}
                </td>
                <td>
                  {run ? (
                    <Link href={`/runs/${run.id}`} className="run-link">
                      <StatusBadge status={run.status} /> <Time ms={run.created_at} />
                    </Link>
                  ) : (
                    <span className="muted">never run</span>
                  )}
                </td>
                <td className="right">
                  <button onClick={() => start(p.name)} disabled={!p.loaded}>
                    Run
                  </button>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </main>
  );
}
