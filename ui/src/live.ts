// The tab's one live channel: `GET /api/events` over Server-Sent Events. It carries every
// run's status and block statuses (`run` events) and, for the run the page follows, its log
// lines (`log` events, whose ids are the lines' positions, so a reconnect resumes after the
// last one seen). Each time the channel opens, and after a reconnect (the server sends
// `resync`), views fetch what they show again.

import { fetchEventSource } from "@microsoft/fetch-event-source";
import { useEffect, useRef } from "react";
import { authHeaders, unauthorized, type LoadStatus, type LogLine, type RunDetail } from "./api";

/** A refusal that retrying cannot mend. */
class Fatal extends Error {}

type RunListener = (run: RunDetail) => void;
type LogListener = (line: LogLine) => void;
type ResyncListener = () => void;
type PipelineListener = (status: LoadStatus) => void;

const runListeners = new Set<RunListener>();
const logListeners = new Set<LogListener>();
const resyncListeners = new Set<ResyncListener>();
const pipelineListeners = new Set<PipelineListener>();

let controller: AbortController | null = null;
let followed: string | null = null;
let lastLog = -1;

/** Open (or reopen, following another run's logs) the channel. */
function open(run: string | null) {
  controller?.abort();
  const c = new AbortController();
  controller = c;
  followed = run;
  const params = new URLSearchParams();
  if (run) {
    params.set("logs", run);
    params.set("after", String(lastLog));
  }
  fetchEventSource(`/api/events?${params}`, {
    signal: c.signal,
    headers: authHeaders(),
    openWhenHidden: true,
    async onopen(res) {
      if (res.status === 401) {
        unauthorized();
        throw new Fatal("the server needs its API token");
      }
      if (!res.ok) throw new Error(`live channel: HTTP ${res.status}`);
      // What changed before the channel was open (a run that ended between a view's fetch
      // and now) is never announced on it: views fetch again, as after a reconnect.
      resyncListeners.forEach((f) => f());
    },
    onmessage(ev) {
      if (ev.event === "run") {
        const r = JSON.parse(ev.data) as RunDetail;
        runListeners.forEach((f) => f(r));
      } else if (ev.event === "log") {
        const line = JSON.parse(ev.data) as LogLine;
        if (line.seq <= lastLog) return;
        lastLog = line.seq;
        logListeners.forEach((f) => f(line));
      } else if (ev.event === "pipeline") {
        const p = JSON.parse(ev.data) as LoadStatus;
        pipelineListeners.forEach((f) => f(p));
      } else if (ev.event === "resync") {
        resyncListeners.forEach((f) => f());
      }
    },
    onerror(err) {
      if (err instanceof Fatal) throw err;
      // Retry; the server resumes logs after `Last-Event-ID`.
      return 1000;
    },
  }).catch(() => undefined);
}

/** Follow every run's status changes while the component is mounted. */
export function useRunEvents(onRun: RunListener, onResync?: ResyncListener) {
  const runRef = useRef(onRun);
  runRef.current = onRun;
  const resyncRef = useRef(onResync);
  resyncRef.current = onResync;
  useEffect(() => {
    const r: RunListener = (x) => runRef.current(x);
    const s: ResyncListener = () => resyncRef.current?.();
    runListeners.add(r);
    resyncListeners.add(s);
    if (!controller) open(followed);
    return () => {
      runListeners.delete(r);
      resyncListeners.delete(s);
    };
  }, []);
}

/** Follow `run`'s log lines (after `after`) while the component is mounted; nothing while
 * `run` is null. */
export function useLogEvents(run: string | null, after: number, onLine: LogListener) {
  const ref = useRef(onLine);
  ref.current = onLine;
  useEffect(() => {
    if (run === null) return;
    const l: LogListener = (x) => ref.current(x);
    logListeners.add(l);
    lastLog = after;
    open(run);
    return () => {
      logListeners.delete(l);
      if (followed === run) open(null);
    };
  }, [run, after]);
}

/** Hear of pipelines loaded again from their files (saved here or changed by another editor)
 * while the component is mounted. */
export function usePipelineEvents(onLoad: PipelineListener) {
  const ref = useRef(onLoad);
  ref.current = onLoad;
  useEffect(() => {
    const f: PipelineListener = (x) => ref.current(x);
    pipelineListeners.add(f);
    if (!controller) open(followed);
    return () => {
      pipelineListeners.delete(f);
    };
  }, []);
}
