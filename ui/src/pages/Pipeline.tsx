// A pipeline as its DAG, with the statuses of its latest run changing live.

import { applyNodeChanges, Background, Controls, MiniMap, ReactFlow, type Edge, type NodeChange } from "@xyflow/react";
import { useCallback, useEffect, useMemo, useState } from "react";
import { Link, useLocation } from "wouter";
import { api, type PipelineDetail, type RunDetail } from "../api";
import { BackfillForm } from "../components/BackfillForm";
import { BlockNode, type BlockNodeType } from "../components/BlockNode";
import { ErrorBox, Header, StatusBadge, Time } from "../components";
import { graphOf, grantSummary, humanBytes, humanDuration, statusesOf } from "../graph";
import { layout, NODE_HEIGHT, NODE_WIDTH } from "../layout";

/** Beyond this many blocks the graph opens on its first blocks at a readable size, not
 * shrunk to fit. */
const FIT_ALL = 60;

/** Colours of statuses on the minimap. */
const MINIMAP: Record<string, string> = {
  success: "#8ce99a",
  failed: "#ffa8a8",
  upstream: "#ffa8a8",
  running: "#74c0fc",
  retrying: "#74c0fc",
  pending: "#ffd8a8",
  queued: "#ffd8a8",
  waiting: "#ffd8a8",
};
import { usePipelineEvents, useRunEvents } from "../live";

const nodeTypes = { block: BlockNode };

/** The `n` nodes nearest the graph's top-left corner: where a big graph opens. */
function topLeft(nodes: BlockNodeType[], n: number): { id: string }[] {
  const minX = Math.min(...nodes.map((d) => d.position.x));
  const minY = Math.min(...nodes.map((d) => d.position.y));
  const reach = (d: BlockNodeType) => Math.max((d.position.x - minX) / (NODE_WIDTH * 1.3), (d.position.y - minY) / (NODE_HEIGHT * 1.3));
  return [...nodes]
    .sort((a, b) => reach(a) - reach(b))
    .slice(0, n)
    .map((d) => ({ id: d.id }));
}

export function PipelinePage({ name }: { name: string }) {
  const [pipeline, setPipeline] = useState<PipelineDetail | null>(null);
  const [positions, setPositions] = useState<Map<string, { x: number; y: number }> | null>(null);
  const [run, setRun] = useState<RunDetail | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [, navigate] = useLocation();
  const [backfill, setBackfill] = useState(false);

  const loadRun = useCallback(() => {
    api
      .runs({ pipeline: name, limit: 1 })
      .then((r) => (r.runs[0] ? api.run(r.runs[0].id).then(setRun) : setRun(null)))
      .catch(setError);
  }, [name]);

  const loadPipeline = useCallback(
    () =>
      api
        .pipeline(name)
        .then((p) => {
          setPipeline(p);
          const g = graphOf(p);
          return layout(g.nodes, g.edges).then(setPositions);
        })
        .catch(setError),
    [name],
  );
  useEffect(() => {
    setPipeline(null);
    setPositions(null);
    void loadPipeline();
    loadRun();
  }, [name, loadRun, loadPipeline]);
  // Loaded again from its files (edited here or elsewhere): draw it as it is now.
  usePipelineEvents((s) => {
    if (s.pipeline === name) void loadPipeline();
  });

  /** A drag from one block's handle to another's: the second reads the first. */
  async function connect(from: string | null, to: string | null) {
    const target = pipeline?.blocks.find((b) => b.name === to);
    if (!from || !target || target.upstream.includes(from)) return;
    try {
      await api.setUpstream(name, target.name, [...target.upstream, from]);
      setError(null);
      await loadPipeline();
    } catch (e) {
      setError(e);
    }
  }

  useRunEvents((r) => {
    if (r.pipeline !== name) return;
    setRun((cur) => (!cur || cur.id === r.id || r.created_at >= cur.created_at ? r : cur));
  }, loadRun);

  const statuses = useMemo(() => (run ? statusesOf(run) : new Map()), [run]);
  const graph = useMemo(() => (pipeline ? graphOf(pipeline) : null), [pipeline]);
  const nodes: BlockNodeType[] = useMemo(
    () =>
      graph && positions
        ? graph.nodes.map((n) => ({
            id: n.id,
            type: "block" as const,
            position: positions.get(n.id) ?? { x: 0, y: 0 },
            width: NODE_WIDTH,
            height: NODE_HEIGHT,
            data: { block: n.block, status: statuses.get(n.id) },
          }))
        : [],
    // Selection is React Flow's own: a click redraws two nodes, not every node.
    [graph, positions, statuses],
  );
  // React Flow owns selection (a click redraws two nodes, not every node); statuses from the
  // server replace the nodes' data and keep what is selected.
  const [shown, setShown] = useState<BlockNodeType[]>([]);
  useEffect(() => setShown((cur) => {
    const picked = new Set(cur.filter((n) => n.selected).map((n) => n.id));
    return nodes.map((n) => (picked.has(n.id) ? { ...n, selected: true } : n));
  }), [nodes]);
  const onNodesChange = useCallback(
    (changes: NodeChange<BlockNodeType>[]) => setShown((cur) => applyNodeChanges(changes, cur)),
    [],
  );
  const edges: Edge[] = useMemo(
    () =>
      graph
        ? graph.edges.map((e) => ({
            ...e,
            animated: statuses.get(e.target)?.status === "running",
          }))
        : [],
    [graph, statuses],
  );

  async function start() {
    try {
      const { run_id } = await api.startRun(name);
      const r = await api.run(run_id);
      setRun(r);
    } catch (e) {
      setError(e);
    }
  }

  const block = pipeline?.blocks.find((b) => b.name === selected);
  const blockStatus = selected ? statuses.get(selected) : undefined;

  return (
    <main className="page page-wide">
      <Header
        title={
          <>
            <Link href="/" className="muted">
              Pipelines
            </Link>{" "}
            / {name}
          </>
        }
        sub={pipeline?.description}
      >
        {run ? (
          <Link href={`/runs/${run.id}`} className="run-link" data-testid="latest-run">
            latest run <StatusBadge status={run.status} /> <Time ms={run.created_at} />
          </Link>
        ) : null}
        <Link href={`/runs?pipeline=${encodeURIComponent(name)}`}>All runs</Link>
        <button onClick={() => setBackfill(true)} data-testid="backfill">
          Backfill…
        </button>
        <Link href={`/pipelines/${encodeURIComponent(name)}/edit`} data-testid="edit-blocks">
          ✎ Edit blocks
        </Link>
        <button className="primary" onClick={start} data-testid="run-pipeline">
          ▶ Run pipeline
        </button>
      </Header>
      <ErrorBox error={error} />
      {backfill ? (
        <BackfillForm
          pipeline={name}
          onClose={() => setBackfill(false)}
          onStarted={() => navigate(`/runs?pipeline=${encodeURIComponent(name)}&trigger=backfill`)}
        />
      ) : null}
      {pipeline?.status?.problem ? (
        <div className="error-box" role="alert" data-testid="pipeline-problem">
          The files on disk do not load; runs use the version loaded before.{" "}
          <Link href={`/pipelines/${encodeURIComponent(name)}/edit`}>Open the blocks</Link>: {pipeline.status.problem.message}
        </div>
      ) : null}
      <div className="pipeline-body">
        <div className="graph" data-testid="graph" data-nodes={nodes.length} data-edges={edges.length}>
          {graph && !positions ? <div className="muted center">laying out {graph.nodes.length} blocks…</div> : null}
          {positions && shown.length ? (
            <ReactFlow
              nodes={shown}
              onNodesChange={onNodesChange}
              edges={edges}
              nodeTypes={nodeTypes}
              onlyRenderVisibleElements
              nodesDraggable={false}
              nodesConnectable
              onConnect={(c) => void connect(c.source, c.target)}
              fitView
              fitViewOptions={nodes.length > FIT_ALL ? { nodes: topLeft(nodes, 24), maxZoom: 0.9 } : { maxZoom: 1.2 }}
              minZoom={0.05}
              onNodeClick={(_, n) => setSelected(n.id)}
              onPaneClick={() => setSelected(null)}
              proOptions={{ hideAttribution: true }}
            >
              <Background gap={24} />
              <Controls showInteractive={false} />
              <MiniMap
                pannable
                zoomable
                nodeColor={(n) => MINIMAP[(n.data as { status?: { status: string } }).status?.status ?? ""] ?? "#ced4da"}
              />
            </ReactFlow>
          ) : null}
        </div>
        {block ? (
          <aside className="side" data-testid="block-panel">
            <h2>{block.name}</h2>
            <p>
              {block.kind}
              {block.language ? ` · ${block.language}` : ""}
              {block.source ? (
                <>
                  {" · "}
                  <code>{block.source}</code>
                </>
              ) : null}
            </p>
            {blockStatus ? (
              <p>
                <StatusBadge status={blockStatus.status} /> attempt {blockStatus.attempt ?? 0}
                {blockStatus.rows !== undefined && blockStatus.rows !== null ? ` · ${blockStatus.rows.toLocaleString()} rows` : ""}
              </p>
            ) : null}
            {blockStatus?.error ? <pre className="error-box">{blockStatus.error}</pre> : null}
            <h3>Limits</h3>
            <dl>
              <dt>timeout</dt>
              <dd>{humanDuration(block.timeout_ms)}</dd>
              <dt>retries</dt>
              <dd>{block.retries}</dd>
              {block.memory_limit ? (
                <>
                  <dt>memory</dt>
                  <dd>{humanBytes(block.memory_limit)}</dd>
                </>
              ) : null}
            </dl>
            <h3>Grants</h3>
            {grantSummary(block).length ? (
              <ul className="grants">
                {grantSummary(block).map((g) => (
                  <li key={g}>
                    <code>{g}</code>
                  </li>
                ))}
              </ul>
            ) : (
              <p className="muted">none: the block sees only its inputs</p>
            )}
            <h3>Upstream</h3>
            <p>{block.upstream.length ? block.upstream.join(", ") : <span className="muted">none</span>}</p>
            {run ? (
              <button onClick={() => navigate(`/runs/${run.id}?block=${encodeURIComponent(block.name)}`)}>Logs of the latest run</button>
            ) : null}
          </aside>
        ) : null}
      </div>
    </main>
  );
}
