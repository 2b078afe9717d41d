/**
 * The repository as the web view opens it: for reading only. Reads through
 * the public Repository API count uses (DESIGN.md §5, "orphan branches") and
 * flush the counts to the registry; a viewer must not write, so the count is
 * turned off on this instance and the registry is closed without a flush.
 * (When the repository gains a read-only open, this is where it goes.)
 */
import { Repository } from '../butler/repository.js';

export interface ReadOnlyRepository {
  readonly repo: Repository;
  close(): void;
}

export function openReadOnly(root: string): ReadOnlyRepository {
  const repo = Repository.open(root);
  // countUse is the only write on the read path (get/resolve); a no-op here, so nothing is pending at close.
  Object.defineProperty(repo, 'countUse', { value: () => {}, configurable: true });
  return { repo, close: () => repo.registry.close() };
}
