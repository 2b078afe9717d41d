/**
 * Where a run comes from, decided once for every kind of run (begin, merge,
 * rebase): its id, the software that wrote it, the host and the user. Also the
 * one failure marker written for an expected output that was never produced.
 */
import { randomBytes } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import type { Registry } from './registry.js';
import { packageVersion } from '../packageFiles.js';

/** Run ids: `r-` and 12 hex digits (ref names may never take this shape). */
export function newRunId(): string {
  return `r-${randomBytes(6).toString('hex')}`;
}

export const RUN_ID = /^r-[0-9a-f]{12}$/;

/** `skycal 0.1.0`: the software running now, which is what writes the run. */
export function softwareVersion(): string {
  const { name, version } = packageVersion();
  return `${name} ${version}`;
}

function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env['USER'] ?? 'unknown';
  }
}

/** The provenance fields of a new run. */
export function runOrigin(): { softwareVersion: string; host: string; user: string } {
  return { softwareVersion: softwareVersion(), host: hostname(), user: currentUser() };
}

export const MISSING_OUTPUT_REASON = 'expected output not produced';

/** Expected outputs neither put nor failed become failure markers (inside the caller's transaction). */
export function markMissingOutputs(reg: Registry, runId: string): void {
  for (const x of reg.expectedOutputs(runId)) {
    if (!reg.entry(runId, x.type, x.dataId)) {
      reg.addEntry(runId, { type: x.type, dataId: x.dataId, kind: 'failure', fileHash: null, size: null, reason: MISSING_OUTPUT_REASON });
    }
  }
}
