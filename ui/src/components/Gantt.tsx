// A run's timeline: one row per block run, placed on a shared time axis, with the attempts
// before its latest one (faded) on the same row and the most memory it held against its
// limit.

import type { RunDetail } from "../api";
import { type Bar, humanBytes, humanDuration, timeline } from "../graph";

/** Share of the limit from which the memory figure is shown as a warning. */
const NEAR_LIMIT = 0.8;

function barTitle(b: Bar): string {
  return `${b.key}: ${b.status}, ${humanDuration(b.end - b.start)}${b.attempt > 1 ? `, attempt ${b.attempt}` : ""}${
    b.rows !== null ? `, ${b.rows.toLocaleString()} rows` : ""
  }${b.bytes !== null ? `, ${humanBytes(b.bytes)}` : ""}${b.peak !== null ? `, peak memory ${humanBytes(b.peak)}` : ""}`;
}

function Memory({ peak, limit }: { peak: number | null; limit: number | null }) {
  if (peak === null) return <span className="gantt-memory" />;
  const share = limit ? Math.min(1, peak / limit) : 0;
  const title = limit ? `peak memory ${humanBytes(peak)} of its ${humanBytes(limit)} limit` : `peak memory ${humanBytes(peak)}`;
  return (
    <span className={`gantt-memory${share >= NEAR_LIMIT ? " near-limit" : ""}`} title={title} data-testid="peak-memory">
      <span className="meter">
        <span style={{ width: `${Math.max(2, share * 100)}%` }} />
      </span>
      {humanBytes(peak)}
      {limit ? <span className="muted"> / {humanBytes(limit)}</span> : null}
    </span>
  );
}

export function Gantt({
  run,
  now,
  limits,
  onPick,
}: {
  run: RunDetail;
  now: number;
  limits?: ReadonlyMap<string, number>;
  onPick?: (block: string) => void;
}) {
  const { bars, span } = timeline(run, now, limits);
  if (bars.length === 0) return <p className="muted">No block has started yet.</p>;
  const shown = bars.slice(0, 500);
  const place = (start: number, end: number) => ({
    left: `${(start / span) * 100}%`,
    width: `${Math.max(0.4, ((end - start) / span) * 100)}%`,
  });
  return (
    <div className="gantt" data-testid="gantt">
      {shown.map((b) => (
        <div className="gantt-row" key={b.key} onClick={() => onPick?.(b.block)}>
          <span className="gantt-label" title={b.key}>
            {b.key}
          </span>
          <span className="gantt-track">
            {b.earlier.map((a) => (
              <span
                key={a.attempt}
                className={`gantt-bar gantt-earlier status-${a.status}`}
                style={place(a.start, a.end)}
                data-testid="earlier-attempt"
                title={`${b.key}, attempt ${a.attempt}: ${a.status}, ${humanDuration(a.end - a.start)}${a.error ? ` — ${a.error}` : ""}`}
              />
            ))}
            <span className={`gantt-bar status-${b.status}`} style={place(b.start, b.end)} title={barTitle(b)} />
          </span>
          <span className="gantt-figure">{humanDuration(b.end - b.start)}</span>
          <Memory peak={b.peak} limit={b.limit} />
        </div>
      ))}
      {bars.length > shown.length ? <p className="muted">…and {bars.length - shown.length} more block runs</p> : null}
      <div className="gantt-axis">
        <span>0</span>
        <span>{humanDuration(span)}</span>
      </div>
    </div>
  );
}
