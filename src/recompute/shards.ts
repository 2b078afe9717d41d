/**
 * Which shard recomputes which dataId: a pure, deterministic function of
 * the selection (the dataIds and their catalogs' sizes, both fixed for a
 * run id) and the shard count, so that every shard of an array job, on any
 * host, computes the same assignment.
 *
 * Balanced by catalog bytes (work is proportional to rows, and a catalog's
 * bytes to its rows), not round-robin: detector catalogs differ by large
 * factors (crowded fields, vignetted edge CCDs), and round-robin over the
 * canonical order gives shard k the same detectors of every visit whenever
 * N divides the detectors per visit, so one shard can collect all the big
 * ones. Greedy largest-first (LPT) keeps the largest shard within
 * total/N + (1 - 1/N) x largest catalog (Graham's list-scheduling bound).
 */
import { errors } from '../errors.js';

/** At most this many shards (a Slurm array is far smaller; a size from an argument is bounded). */
export const MAX_SHARDS = 100_000;

/** Canonical dataId order: by UTF-8 bytes (what SQLite's ORDER BY gives; a PostgreSQL collation may not). */
export function compareDataIds(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

const COUNT = /^[1-9][0-9]{0,5}$/;

/** `--plan N`: a shard count, 1..MAX_SHARDS. */
export function parseShardCount(text: string, option = '--plan'): number {
  const n = COUNT.test(text) ? Number(text) : NaN;
  if (!(n >= 1 && n <= MAX_SHARDS)) throw errors.usage(`${option} ${text}: expected a number of shards from 1 to ${MAX_SHARDS}`);
  return n;
}

/** `--shard I/N`: zero-based I of N shards (Slurm: $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT with --array=0-(N-1)). */
export function parseShardArg(text: string): { index: number; count: number } {
  const m = /^(0|[1-9][0-9]{0,5})\/([1-9][0-9]{0,5})$/.exec(text);
  const hint = 'expected I/N with 0 <= I < N (zero-based, as a Slurm array --array=0-(N-1))';
  if (m === null) throw errors.usage(`--shard ${text}: ${hint}`);
  const index = Number(m[1]);
  const count = parseShardCount(m[2]!, '--shard');
  if (index >= count) throw errors.usage(`--shard ${text}: ${hint}; shard ${index} does not exist among ${count}`);
  return { index, count };
}

/** One dataId to place: its canonical text and its catalog's size in bytes. */
export interface ShardItem {
  readonly dataId: string;
  readonly bytes: number;
}

/**
 * The dataIds of each of `count` shards, each list in canonical order.
 * Largest catalog first (ties: canonical order), each to the least loaded
 * shard (ties: the lowest index). The input's order does not matter.
 */
export function assignShards(items: readonly ShardItem[], count: number): string[][] {
  if (!Number.isInteger(count) || count < 1 || count > MAX_SHARDS) throw errors.usage(`shards: ${count} is not a count from 1 to ${MAX_SHARDS}`);
  const seen = new Set<string>();
  for (const it of items) {
    if (seen.has(it.dataId)) throw errors.usage(`shards: dataId ${it.dataId} is listed twice`);
    if (!(Number.isFinite(it.bytes) && it.bytes >= 0)) throw errors.usage(`shards: dataId ${it.dataId} has size ${it.bytes}`);
    seen.add(it.dataId);
  }
  const canonical = [...items].sort((a, b) => compareDataIds(a.dataId, b.dataId));
  const rank = new Map(canonical.map((it, i) => [it.dataId, i]));
  const largestFirst = [...canonical].sort((a, b) => b.bytes - a.bytes || rank.get(a.dataId)! - rank.get(b.dataId)!);
  const heap = new LoadHeap(count);
  const members: number[][] = Array.from({ length: count }, () => []);
  for (const it of largestFirst) members[heap.add(it.bytes)]!.push(rank.get(it.dataId)!);
  return members.map((m) => m.sort((a, b) => a - b).map((r) => canonical[r]!.dataId));
}

/** A binary min-heap of shards by (load, index): O(log N) per placement, so 10^5 shards x 10^5 dataIds stay fast. */
class LoadHeap {
  private readonly load: number[];
  private readonly shard: number[];
  constructor(n: number) {
    this.load = new Array<number>(n).fill(0);
    this.shard = Array.from({ length: n }, (_, i) => i);
  }

  private less(i: number, j: number): boolean {
    return this.load[i]! < this.load[j]! || (this.load[i] === this.load[j] && this.shard[i]! < this.shard[j]!);
  }

  private swap(i: number, j: number): void {
    [this.load[i], this.load[j]] = [this.load[j]!, this.load[i]!];
    [this.shard[i], this.shard[j]] = [this.shard[j]!, this.shard[i]!];
  }

  /** Add `bytes` to the least loaded shard; returns that shard's index. */
  add(bytes: number): number {
    const chosen = this.shard[0]!;
    this.load[0]! += bytes;
    const n = this.load.length;
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.less(l, m)) m = l;
      if (r < n && this.less(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
    return chosen;
  }
}
