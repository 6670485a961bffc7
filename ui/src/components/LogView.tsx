// A run's log: only the lines in view are in the page (virtualized), with the app's own
// search (the browser's would miss lines scrolled out of view), a level filter, a jump to the
// first error, and a live tail.

import { useVirtualizer } from "@tanstack/react-virtual";
import { useEffect, useMemo, useRef, useState } from "react";
import type { LogLine } from "../api";

const ROW = 20;

export function LogView({ lines, live }: { lines: LogLine[]; live: boolean }) {
  const [query, setQuery] = useState("");
  const [level, setLevel] = useState("");
  const [hit, setHit] = useState(0);
  const [follow, setFollow] = useState(true);
  const parent = useRef<HTMLDivElement>(null);

  const shown = useMemo(() => (level ? lines.filter((l) => l.level === level) : lines), [lines, level]);
  const hits = useMemo(() => {
    if (!query) return [];
    const q = query.toLowerCase();
    const out: number[] = [];
    shown.forEach((l, i) => {
      if (l.message.toLowerCase().includes(q) || (l.block ?? "").toLowerCase().includes(q)) out.push(i);
    });
    return out;
  }, [shown, query]);

  const v = useVirtualizer({ count: shown.length, getScrollElement: () => parent.current, estimateSize: () => ROW, overscan: 20 });

  useEffect(() => {
    if (follow && live && shown.length) v.scrollToIndex(shown.length - 1, { align: "end" });
  }, [shown.length, follow, live, v]);

  // Find as you type: the first hit is brought into view as soon as there is one (also when
  // it arrives with lines loaded after the query was typed).
  const first = hits.length ? hits[0] : -1;
  useEffect(() => {
    if (first < 0) return;
    setFollow(false);
    v.scrollToIndex(first, { align: "center" });
  }, [query, first, v]);

  function go(i: number) {
    if (!hits.length) return;
    const n = ((i % hits.length) + hits.length) % hits.length;
    setHit(n);
    setFollow(false);
    v.scrollToIndex(hits[n], { align: "center" });
  }

  function firstError() {
    const i = shown.findIndex((l) => l.level === "error");
    if (i >= 0) {
      setFollow(false);
      v.scrollToIndex(i, { align: "center" });
    }
  }

  const current = hits.length ? hits[Math.min(hit, hits.length - 1)] : -1;
  return (
    <div className="logs">
      <div className="log-tools">
        <input
          type="search"
          placeholder="Search the log"
          value={query}
          data-testid="log-search"
          onChange={(e) => {
            setQuery(e.target.value);
            setHit(0);
          }}
          onKeyDown={(e) => {
            if (e.key === "Enter") go(e.shiftKey ? hit - 1 : hit + (hits.length && current >= 0 ? 1 : 0));
          }}
        />
        <span className="muted" data-testid="log-hits">
          {query ? `${hits.length ? hit + 1 : 0} / ${hits.length}` : `${shown.length} lines`}
        </span>
        <button onClick={() => go(hit - 1)} disabled={!hits.length}>
          ↑
        </button>
        <button onClick={() => go(hit + 1)} disabled={!hits.length}>
          ↓
        </button>
        <select value={level} onChange={(e) => setLevel(e.target.value)}>
          <option value="">all levels</option>
          <option value="error">error</option>
          <option value="warn">warn</option>
          <option value="info">info</option>
          <option value="debug">debug</option>
        </select>
        <button onClick={firstError}>First error</button>
        {live ? (
          <label>
            <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} /> follow
          </label>
        ) : null}
      </div>
      <div className="log-lines" ref={parent} data-testid="log-lines">
        <div style={{ height: v.getTotalSize(), position: "relative" }}>
          {v.getVirtualItems().map((item) => {
            const l = shown[item.index];
            return (
              <div
                key={l.seq}
                className={`log-line level-${l.level}${item.index === current ? " hit" : ""}`}
                style={{ position: "absolute", top: item.start, height: ROW, left: 0, right: 0 }}
              >
                <span className="log-time">{new Date(l.at).toLocaleTimeString()}</span>
                <span className="log-level">{l.level}</span>
                <span className="log-block">{l.block ?? ""}</span>
                <span className="log-msg">{l.message}</span>
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}
