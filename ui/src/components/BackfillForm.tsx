// A backfill: one run per interval from a first to a last execution date, a few at a time.

import { useState } from "react";
import { api } from "../api";
import { ErrorBox } from "../components";

/** The number of runs a backfill from `start` to `end` every `every` makes, when it can
 * be told here (whole days and weeks); `null` otherwise (the server counts). */
export function backfillRuns(start: string, end: string, every: string): number | null {
  const day = 86_400_000;
  const step = /^(\d+)d$/.exec(every) ? Number(/^(\d+)d$/.exec(every)![1]) * day : /^(\d+)w$/.exec(every) ? Number(/^(\d+)w$/.exec(every)![1]) * 7 * day : null;
  const a = Date.parse(start);
  const b = Date.parse(end);
  if (!step || Number.isNaN(a) || Number.isNaN(b) || b < a) return null;
  return Math.floor((b - a) / step) + 1;
}

export function BackfillForm({ pipeline, onClose, onStarted }: { pipeline: string; onClose: () => void; onStarted: (runs: number) => void }) {
  const today = new Date().toISOString().slice(0, 10);
  const [start, setStart] = useState(today);
  const [end, setEnd] = useState(today);
  const [every, setEvery] = useState("1d");
  const [concurrency, setConcurrency] = useState(2);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const count = backfillRuns(start, end, every);
  return (
    <div className="modal-backdrop">
      <form
        className="modal"
        data-testid="backfill-form"
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setError(null);
          try {
            const r = await api.backfill(pipeline, { start, end, every, concurrency });
            onStarted(r.runs);
          } catch (err) {
            setError(err);
          } finally {
            setBusy(false);
          }
        }}
      >
        <h2>Backfill {pipeline}</h2>
        <p className="muted">One run per interval, each with its <code>execution_date</code>.</p>
        <label>
          first date <input type="date" value={start} onChange={(e) => setStart(e.target.value)} required />
        </label>
        <label>
          last date <input type="date" value={end} onChange={(e) => setEnd(e.target.value)} required />
        </label>
        <label>
          every
          <select value={every} onChange={(e) => setEvery(e.target.value)}>
            <option value="1h">hour</option>
            <option value="6h">6 hours</option>
            <option value="1d">day</option>
            <option value="1w">week</option>
            <option value="1mo">month</option>
          </select>
        </label>
        <label>
          at a time <input type="number" min={1} max={32} value={concurrency} onChange={(e) => setConcurrency(Number(e.target.value))} />
        </label>
        <ErrorBox error={error} />
        <div className="actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button className="primary" type="submit" disabled={busy} data-testid="start-backfill">
            {busy ? "Starting…" : count !== null ? `Start ${count} run${count === 1 ? "" : "s"}` : "Start"}
          </button>
        </div>
      </form>
    </div>
  );
}
