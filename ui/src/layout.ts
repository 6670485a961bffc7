// Positions of a pipeline's nodes, computed by ELK's layered layout in a Web Worker so a big
// graph never blocks the page.

import ELK from "elkjs/lib/elk-api.js";
import workerUrl from "elkjs/lib/elk-worker.min.js?url";
import type { GraphEdge, GraphNode } from "./graph";

/** Size of a node as drawn. */
export const NODE_WIDTH = 230;
export const NODE_HEIGHT = 92;

let elk: InstanceType<typeof ELK> | null = null;

/** Top-left corner of every node, by id, left to right in DAG order. */
export async function layout(nodes: GraphNode[], edges: GraphEdge[]): Promise<Map<string, { x: number; y: number }>> {
  elk ??= new ELK({ workerUrl });
  const graph = await elk.layout({
    id: "root",
    layoutOptions: {
      "elk.algorithm": "layered",
      "elk.direction": "RIGHT",
      "elk.layered.spacing.nodeNodeBetweenLayers": "70",
      "elk.spacing.nodeNode": "28",
      "elk.layered.considerModelOrder.strategy": "NODES_AND_EDGES",
    },
    children: nodes.map((n) => ({ id: n.id, width: NODE_WIDTH, height: NODE_HEIGHT })),
    edges: edges.map((e) => ({ id: e.id, sources: [e.source], targets: [e.target] })),
  });
  const at = new Map<string, { x: number; y: number }>();
  for (const c of graph.children ?? []) at.set(c.id, { x: c.x ?? 0, y: c.y ?? 0 });
  return at;
}
