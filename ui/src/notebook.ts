// The notebook's own logic, kept apart from its components so it is tested alone.

import type { BlockInfo, Problem } from "./api";

/** The problem that belongs to `block`: it names the block, or the block's file. */
export function problemOf(problem: Problem | null | undefined, block: BlockInfo, file: string): Problem | null {
  if (!problem) return null;
  if (problem.block === block.name) return problem;
  if (file && problem.file && (problem.file === file || file.endsWith(`/${problem.file}`))) return problem;
  return null;
}

/** The blocks `block` could read besides those it reads: not itself, not what already reads
 * it (directly or not), so a choice never makes a cycle. */
export function upstreamChoices(block: BlockInfo, blocks: BlockInfo[]): BlockInfo[] {
  const below = new Set<string>([block.name]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const b of blocks) {
      if (!below.has(b.name) && b.upstream.some((u) => below.has(u))) {
        below.add(b.name);
        grew = true;
      }
    }
  }
  return blocks.filter((b) => !below.has(b.name) && !block.upstream.includes(b.name));
}
