// A pipeline as a notebook: each block a cell with its source. Saving writes the file (the
// files stay the truth: an edit made in another editor shows up here), "Run" saves and runs
// the block alone on its upstream outputs from the latest run, then shows its log and the
// first rows of its output. A build error is marked at its line. Blocks are added and
// connected here too, which edits pipeline.yaml.

import { lazy, Suspense, useCallback, useEffect, useRef, useState } from "react";
import { Link } from "wouter";
import { api, ApiError, type BlockInfo, type LogLine, type PipelineDetail, type Preview, type Problem, type RunDetail } from "../api";
import { ErrorBox, Header, StatusBadge } from "../components";
import { PreviewTable } from "../components/PreviewTable";
import { useLogEvents, usePipelineEvents, useRunEvents } from "../live";
import { problemOf, upstreamChoices } from "../notebook";

const Editor = lazy(() => import("../components/Editor"));

/** Cells open by default up to this many blocks; beyond, a cell opens on a click. */
const OPEN_ALL = 12;

const KINDS = ["loader", "transformer", "exporter", "sensor", "condition", "dynamic", "callback"];

/** A block's run started from its cell. */
interface CellRun {
  id: string;
  status: string;
  error: string | null;
}

function Cell({
  pipeline,
  block,
  blocks,
  open: initiallyOpen,
  reloads,
  problem,
  onChanged,
}: {
  pipeline: string;
  block: BlockInfo;
  blocks: BlockInfo[];
  open: boolean;
  reloads: number;
  problem: Problem | null | undefined;
  onChanged: () => void;
}) {
  const [open, setOpen] = useState(initiallyOpen);
  const [file, setFile] = useState("");
  const [language, setLanguage] = useState(block.language ?? "");
  const [editable, setEditable] = useState(true);
  const [text, setText] = useState<string | null>(null);
  const [generation, setGeneration] = useState(0);
  const [version, setVersion] = useState<string | null>(null);
  const [dirty, setDirty] = useState(false);
  const [onDisk, setOnDisk] = useState<string | null>(null);
  const [busy, setBusy] = useState<"" | "saving" | "running">("");
  const [error, setError] = useState<unknown>(null);
  const [savedProblem, setSavedProblem] = useState<Problem | null>(null);
  const [run, setRun] = useState<CellRun | null>(null);
  const [logs, setLogs] = useState<LogLine[]>([]);
  const [preview, setPreview] = useState<Preview | null>(null);
  const edited = useRef("");
  /** The run this cell waits for the end of. */
  const waiting = useRef<string | null>(null);

  const load = useCallback(
    (replace: boolean) =>
      api
        .source(pipeline, block.name)
        .then((s) => {
          setFile(s.file);
          setLanguage(s.language);
          setEditable(s.editable);
          if (replace) {
            edited.current = s.text;
            setText(s.text);
            setVersion(s.version);
            setDirty(false);
            setOnDisk(null);
            setGeneration((g) => g + 1);
          } else {
            setOnDisk((cur) => (s.version !== version ? s.text : cur));
          }
          return s;
        })
        .catch(setError),
    [pipeline, block.name, version],
  );

  useEffect(() => {
    if (open && text === null) void load(true);
  }, [open, text, load]);

  // The pipeline was loaded again (a save here, or another editor): show the file as it is
  // now, unless this cell holds edits not saved (then say the file changed).
  useEffect(() => {
    if (!open || text === null || reloads === 0) return;
    if (dirty) void load(false);
    else void load(true);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [reloads]);

  async function save(): Promise<boolean> {
    if (!dirty) return true;
    setBusy("saving");
    setError(null);
    try {
      const r = await api.saveSource(pipeline, block.name, edited.current, version ?? "");
      setVersion(r.version);
      setDirty(false);
      setOnDisk(null);
      setSavedProblem(r.problem);
      onChanged();
      return r.problem === null;
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) void load(false);
      setError(e);
      return false;
    } finally {
      setBusy("");
    }
  }

  async function runBlock() {
    if (!(await save())) return;
    setBusy("running");
    setError(null);
    setLogs([]);
    setPreview(null);
    try {
      const { run_id } = await api.runBlock(pipeline, block.name);
      waiting.current = run_id;
      setRun({ id: run_id, status: "queued", error: null });
      // A block that ends before this cell hears of its run is read once here.
      api.run(run_id).then((r) => onRun(r, run_id), setError);
    } catch (e) {
      setError(e);
      setBusy("");
    }
  }

  const onRun = (r: RunDetail, id: string | undefined = run?.id) => {
    if (!id || r.id !== id) return;
    const b = r.blocks.find((x) => x.key === block.name);
    const status = b?.status ?? r.status;
    setRun({ id: r.id, status, error: b?.error ?? r.error });
    if (["success", "failed", "cancelled"].includes(r.status) && waiting.current === r.id) {
      waiting.current = null;
      setBusy("");
      api.logs(r.id, -1, block.name).then((l) => setLogs(l.logs), setError);
      if (b?.output) api.preview(r.id, block.name).then(setPreview, setError);
    }
  };
  useRunEvents(
    (r) => onRun(r),
    () => {
      // The run this cell waits for may have ended before the channel opened.
      const id = waiting.current;
      if (id) api.run(id).then(onRun, setError);
    },
  );
  useLogEvents(busy === "running" && run ? run.id : null, -1, (l) => {
    if (l.block === block.name) setLogs((cur) => [...cur, l]);
  });

  const shownProblem = dirty ? null : (savedProblem ?? problemOf(problem, block, file));
  const choices = upstreamChoices(block, blocks);

  async function setUpstream(upstream: string[]) {
    setError(null);
    try {
      await api.setUpstream(pipeline, block.name, upstream);
      onChanged();
    } catch (e) {
      setError(e);
    }
  }

  return (
    <section className="cell" data-testid={`cell-${block.name}`} data-dirty={dirty} data-busy={busy}>
      <header className="cell-head">
        <button className="link" onClick={() => setOpen(!open)} aria-expanded={open}>
          {open ? "▾" : "▸"} <strong>{block.name}</strong>
        </button>
        <span className="muted">
          {block.kind} · {language || block.language}
          {file ? (
            <>
              {" · "}
              <code>{file}</code>
            </>
          ) : null}
        </span>
        <span className="upstream">
          {block.upstream.map((u) => (
            <span className="chip" key={u}>
              ← {u}
              <button
                className="link"
                title={`stop reading ${u}`}
                onClick={() => setUpstream(block.upstream.filter((x) => x !== u))}
              >
                ×
              </button>
            </span>
          ))}
          {choices.length ? (
            <select
              value=""
              aria-label="add upstream"
              data-testid={`add-upstream-${block.name}`}
              onChange={(e) => e.target.value && setUpstream([...block.upstream, e.target.value])}
            >
              <option value="">+ upstream</option>
              {choices.map((b) => (
                <option key={b.name} value={b.name}>
                  {b.name}
                </option>
              ))}
            </select>
          ) : null}
        </span>
        <span className="actions">
          {dirty ? <span className="muted">edited</span> : null}
          {editable && text !== null ? (
            <button onClick={() => void save()} disabled={!dirty || busy !== ""} data-testid="save">
              {busy === "saving" ? "Saving…" : "Save"}
            </button>
          ) : null}
          <button className="primary" onClick={() => void runBlock()} disabled={busy !== ""} data-testid="run-block">
            {busy === "running" ? "Running…" : "▶ Run block"}
          </button>
        </span>
      </header>
      {open ? (
        <>
          {onDisk !== null ? (
            <div className="notice" role="status" data-testid="disk-changed">
              The file changed on disk since you opened it.{" "}
              <button onClick={() => void load(true)}>Load the file</button> (your edits are dropped), or save to
              overwrite it.
            </div>
          ) : null}
          {!editable ? (
            <p className="muted">
              {language === "rust"
                ? "A Rust crate: its build runs native code, so it is edited in your own editor; the server loads the change and this view follows it."
                : "A prebuilt component: its source is not in this project."}
            </p>
          ) : null}
          {text !== null && (editable || language === "rust") ? (
            <Suspense fallback={<pre className="editor-loading">{text}</pre>}>
              <Editor
                text={text}
                generation={generation}
                language={language}
                readOnly={!editable}
                error={shownProblem ? { line: shownProblem.line, message: shownProblem.message } : null}
                onChange={(t) => {
                  edited.current = t;
                  setDirty(true);
                }}
                onSave={() => void save()}
              />
            </Suspense>
          ) : null}
          {shownProblem ? (
            <pre className="error-box" data-testid="build-error" data-line={shownProblem.line ?? ""}>
              {shownProblem.line ? `line ${shownProblem.line}: ` : ""}
              {shownProblem.message}
            </pre>
          ) : null}
          <ErrorBox error={error} />
          {run ? (
            <div className="cell-run" data-testid="cell-run" data-status={run.status}>
              <p>
                <StatusBadge status={run.status} /> <Link href={`/runs/${run.id}?block=${encodeURIComponent(block.name)}`}>run {run.id}</Link>
              </p>
              {run.error ? <pre className="error-box">{run.error}</pre> : null}
              {logs.length ? (
                <pre className="cell-log" data-testid="cell-log">
                  {logs.map((l) => `${l.level.padEnd(5)} ${l.message}`).join("\n")}
                </pre>
              ) : null}
              {preview ? <PreviewTable preview={preview} /> : null}
            </div>
          ) : null}
        </>
      ) : null}
    </section>
  );
}

function AddBlock({ pipeline, blocks, onAdded }: { pipeline: string; blocks: BlockInfo[]; onAdded: () => void }) {
  const [name, setName] = useState("");
  const [kind, setKind] = useState("transformer");
  const [language, setLanguage] = useState("python");
  const [upstream, setUpstream] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  return (
    <form
      className="add-block"
      data-testid="add-block"
      onSubmit={async (e) => {
        e.preventDefault();
        setBusy(true);
        setError(null);
        try {
          await api.addBlock(pipeline, { name: name.trim(), kind, language, upstream });
          setName("");
          setUpstream([]);
          onAdded();
        } catch (err) {
          setError(err);
        } finally {
          setBusy(false);
        }
      }}
    >
      <h2>Add a block</h2>
      <label>
        name <input value={name} onChange={(e) => setName(e.target.value)} placeholder="clean_orders" required />
      </label>
      <label>
        kind
        <select value={kind} onChange={(e) => setKind(e.target.value)}>
          {KINDS.map((k) => (
            <option key={k}>{k}</option>
          ))}
        </select>
      </label>
      <label>
        language
        <select value={language} onChange={(e) => setLanguage(e.target.value)}>
          <option value="python">Python</option>
          <option value="sql">SQL</option>
        </select>
      </label>
      <fieldset>
        <legend>reads</legend>
        {blocks.map((b) => (
          <label key={b.name} className="check">
            <input
              type="checkbox"
              checked={upstream.includes(b.name)}
              onChange={(e) =>
                setUpstream(e.target.checked ? [...upstream, b.name] : upstream.filter((u) => u !== b.name))
              }
            />
            {b.name}
          </label>
        ))}
      </fieldset>
      <button className="primary" type="submit" disabled={busy || !name.trim()}>
        {busy ? "Adding… (building the block)" : "Add block"}
      </button>
      <ErrorBox error={error} />
    </form>
  );
}

export function NotebookPage({ name }: { name: string }) {
  const [pipeline, setPipeline] = useState<PipelineDetail | null>(null);
  const [reloads, setReloads] = useState(0);
  const [error, setError] = useState<unknown>(null);

  const fetchPipeline = useCallback(() => api.pipeline(name).then(setPipeline).catch(setError), [name]);
  useEffect(() => {
    void fetchPipeline();
  }, [fetchPipeline]);
  usePipelineEvents((s) => {
    if (s.pipeline !== name) return;
    void fetchPipeline();
    setReloads((n) => n + 1);
  });

  const problem = pipeline?.status?.problem;
  return (
    <main className="page notebook">
      <Header
        title={
          <>
            <Link href="/" className="muted">
              Pipelines
            </Link>{" "}
            / <Link href={`/pipelines/${encodeURIComponent(name)}`}>{name}</Link> / blocks
          </>
        }
        sub="Each block's file, as it is on disk. Ctrl-S saves; ▶ runs the block on its upstream outputs from the latest run."
      />
      <ErrorBox error={error} />
      {problem ? (
        <div className="error-box" role="alert" data-testid="pipeline-problem">
          The files on disk do not load{problem.file ? ` (${problem.file}${problem.line ? `, line ${problem.line}` : ""})` : ""}; runs use the
          version loaded before. {problem.block ? `The error is shown in the cell of ${problem.block}.` : problem.message}
        </div>
      ) : null}
      {!problem && pipeline?.status?.building ? (
        <p className="muted" role="status" data-testid="pipeline-building">
          Building the edited blocks; until then they run from their source (a little slower to start).
        </p>
      ) : null}
      {pipeline?.blocks.map((b) => (
        <Cell
          key={b.name}
          pipeline={name}
          block={b}
          blocks={pipeline.blocks}
          open={pipeline.blocks.length <= OPEN_ALL}
          reloads={reloads}
          problem={problem}
          onChanged={() => void fetchPipeline()}
        />
      ))}
      {pipeline ? <AddBlock pipeline={name} blocks={pipeline.blocks} onAdded={() => void fetchPipeline()} /> : null}
    </main>
  );
}
