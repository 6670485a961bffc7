// Runs, newest first, filtered by pipeline, status and trigger; statuses change live.

import { useCallback, useEffect, useState } from "react";
import { Link, useLocation, useSearch } from "wouter";
import { api, type RunRecord } from "../api";
import { ErrorBox, Header, StatusBadge, Time } from "../components";
import { humanDuration } from "../graph";
import { useRunEvents } from "../live";

const STATUSES = ["", "queued", "running", "success", "failed", "cancelled"];

export function RunsPage() {
  const search = new URLSearchParams(useSearch());
  const [, navigate] = useLocation();
  const filter = {
    pipeline: search.get("pipeline") ?? "",
    status: search.get("status") ?? "",
    trigger: search.get("trigger") ?? "",
  };
  const [runs, setRuns] = useState<RunRecord[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const key = `${filter.pipeline}|${filter.status}|${filter.trigger}`;

  const load = useCallback(() => {
    api
      .runs({ ...filter, limit: 50 })
      .then((r) => {
        setRuns(r.runs);
        setNext(r.next_before);
      })
      .catch(setError);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
  useEffect(load, [load]);

  useRunEvents((r) => {
    if (filter.pipeline && r.pipeline !== filter.pipeline) return;
    if (filter.trigger && r.trigger !== filter.trigger) return;
    setRuns((cur) => {
      if (!cur) return cur;
      const i = cur.findIndex((x) => x.id === r.id);
      const keep = !filter.status || r.status === filter.status;
      if (i >= 0) return keep ? cur.map((x) => (x.id === r.id ? r : x)) : cur.filter((x) => x.id !== r.id);
      return keep ? [r, ...cur] : cur;
    });
  }, load);

  function set(k: string, v: string) {
    const q = new URLSearchParams(search);
    if (v) q.set(k, v);
    else q.delete(k);
    navigate(`/runs?${q}`);
  }

  async function more() {
    if (!next) return;
    const r = await api.runs({ ...filter, limit: 50, before: next });
    setRuns((cur) => [...(cur ?? []), ...r.runs]);
    setNext(r.next_before);
  }

  return (
    <main className="page">
      <Header title="Runs" />
      <form className="filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Pipeline <input value={filter.pipeline} onChange={(e) => set("pipeline", e.target.value)} placeholder="any" />
        </label>
        <label>
          Status{" "}
          <select value={filter.status} onChange={(e) => set("status", e.target.value)} data-testid="status-filter">
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s || "any"}
              </option>
            ))}
          </select>
        </label>
        <label>
          Trigger <input value={filter.trigger} onChange={(e) => set("trigger", e.target.value)} placeholder="any" />
        </label>
      </form>
      <ErrorBox error={error} />
      <table className="grid" data-testid="runs">
        <thead>
          <tr>
            <th>Run</th>
            <th>Pipeline</th>
            <th>Status</th>
            <th>Trigger</th>
            <th>Created</th>
            <th className="num">Duration</th>
          </tr>
        </thead>
        <tbody>
          {runs?.map((r) => (
            <tr key={r.id} data-run={r.id}>
              <td>
                <Link href={`/runs/${r.id}`}>
                  <code>{r.id}</code>
                </Link>
              </td>
              <td>{r.pipeline}</td>
              <td>
                <StatusBadge status={r.status} />
              </td>
              <td>{r.trigger}</td>
              <td>
                <Time ms={r.created_at} />
              </td>
              <td className="num">{r.started_at ? humanDuration((r.finished_at ?? Date.now()) - r.started_at) : ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {runs && runs.length === 0 ? <p className="muted">No runs match.</p> : null}
      {next ? <button onClick={more}>More</button> : null}
    </main>
  );
}
