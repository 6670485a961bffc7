// A block drawn on the pipeline graph: name, kind and language, status (or a fan-out's
// counts per status), limits and what it is granted.

import { Handle, Position, type NodeProps, type Node } from "@xyflow/react";
import type { BlockInfo } from "../api";
import { grantSummary, humanBytes, humanDuration, type NodeStatus } from "../graph";
import { NODE_HEIGHT, NODE_WIDTH } from "../layout";

export type BlockNodeData = { block: BlockInfo; status?: NodeStatus; selected?: boolean };
export type BlockNodeType = Node<BlockNodeData, "block">;

const KIND_ICON: Record<string, string> = {
  loader: "⤓",
  transformer: "ƒ",
  exporter: "⤒",
  sensor: "◉",
  condition: "◇",
  callback: "↩",
  custom: "✱",
};

export function BlockNode({ data }: NodeProps<BlockNodeType>) {
  const { block, status } = data;
  const grants = grantSummary(block);
  const s = status?.status ?? "none";
  return (
    <div
      className={`block-node status-${s}`}
      style={{ width: NODE_WIDTH, height: NODE_HEIGHT }}
      data-block={block.name}
      data-status={s}
      title={grants.length ? grants.join("\n") : "no grants"}
    >
      <Handle type="target" position={Position.Left} />
      <div className="block-head">
        <span className="kind-icon" aria-hidden>
          {KIND_ICON[block.kind] ?? "•"}
        </span>
        <span className="block-name">{block.name}</span>
      </div>
      <div className="block-meta">
        <span>{block.kind}</span>
        {block.language ? <span className={`lang lang-${block.language}`}>{block.language}</span> : null}
        {status ? <span className={`dot status-${s}`}>{s}</span> : null}
      </div>
      {status?.children ? (
        <div className="fanout" data-testid="fanout">
          {Object.entries(status.children).map(([k, n]) => (
            <span key={k} className={`count status-${k}`}>
              {n} {k}
            </span>
          ))}
        </div>
      ) : (
        <div className="block-limits">
          <span title="timeout of one attempt">{humanDuration(block.timeout_ms)}</span>
          {block.memory_limit ? <span title="memory limit">{humanBytes(block.memory_limit)}</span> : null}
          <span title={grants.join("\n") || "no grants"} className={grants.length ? "granted" : ""}>
            {grants.length ? `${grants.length} grant${grants.length > 1 ? "s" : ""}` : "no grants"}
          </span>
        </div>
      )}
      <Handle type="source" position={Position.Right} />
    </div>
  );
}
