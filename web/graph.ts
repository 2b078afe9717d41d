/**
 * Lanes for a run graph drawn like `git log --graph`: runs newest first,
 * each in a lane; a run's first parent continues its lane, other parents
 * (merges) take a free lane; lanes that wait for the same run join there.
 */
export interface GraphNode {
  readonly id: string;
  readonly parents: readonly string[];
}

export interface GraphLayout {
  /** Lane of each run, in input order. */
  readonly lane: number[];
  /** Edges child row -> parent row (parents not in the list are left out). */
  readonly edges: { from: number; to: number }[];
  readonly lanes: number;
}

export function layoutGraph(runs: readonly GraphNode[]): GraphLayout {
  const row = new Map(runs.map((r, i) => [r.id, i]));
  const waiting: (string | null)[] = [];
  const lane: number[] = [];
  const edges: { from: number; to: number }[] = [];
  let lanes = 0;
  const freeSlot = (): number => {
    const k = waiting.indexOf(null);
    return k < 0 ? waiting.push(null) - 1 : k;
  };
  runs.forEach((run, i) => {
    let l = waiting.indexOf(run.id);
    if (l < 0) l = freeSlot();
    // Every other lane that waited for this run ends here.
    for (let k = 0; k < waiting.length; k++) if (waiting[k] === run.id) waiting[k] = null;
    lane[i] = l;
    const parents = run.parents.filter((p) => row.has(p));
    parents.forEach((p, k) => {
      edges.push({ from: i, to: row.get(p)! });
      const j = waiting.indexOf(p);
      // A first parent already awaited further right moves into this lane: first-parent lines stay leftmost, as in git.
      if (k === 0 && j > l) waiting[j] = null;
      else if (j >= 0) return;
      if (k === 0) waiting[l] = p;
      else waiting[freeSlot()] = p;
    });
    lanes = Math.max(lanes, waiting.length, l + 1);
  });
  return { lane, edges, lanes };
}
