// A run's timeline: one bar per block run, placed on a shared time axis.

import type { RunDetail } from "../api";
import { humanBytes, humanDuration, timeline } from "../graph";

export function Gantt({ run, now, onPick }: { run: RunDetail; now: number; onPick?: (block: string) => void }) {
  const { bars, span } = timeline(run, now);
  if (bars.length === 0) return <p className="muted">No block has started yet.</p>;
  const shown = bars.slice(0, 500);
  return (
    <div className="gantt" data-testid="gantt">
      {shown.map((b) => {
        const left = (b.start / span) * 100;
        const width = Math.max(0.4, ((b.end - b.start) / span) * 100);
        const title = `${b.key}: ${b.status}, ${humanDuration(b.end - b.start)}${b.attempt > 1 ? `, attempt ${b.attempt}` : ""}${
          b.rows !== null ? `, ${b.rows.toLocaleString()} rows` : ""
        }${b.bytes !== null ? `, ${humanBytes(b.bytes)}` : ""}`;
        return (
          <div className="gantt-row" key={b.key} onClick={() => onPick?.(b.block)}>
            <span className="gantt-label" title={b.key}>
              {b.key}
            </span>
            <span className="gantt-track">
              <span className={`gantt-bar status-${b.status}`} style={{ left: `${left}%`, width: `${width}%` }} title={title} />
            </span>
            <span className="gantt-figure">{humanDuration(b.end - b.start)}</span>
          </div>
        );
      })}
      {bars.length > shown.length ? <p className="muted">…and {bars.length - shown.length} more block runs</p> : null}
      <div className="gantt-axis">
        <span>0</span>
        <span>{humanDuration(span)}</span>
      </div>
    </div>
  );
}
