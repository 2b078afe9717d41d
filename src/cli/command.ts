/**
 * What every CLI command is: a name (one or two words), its options for
 * node:util parseArgs, and a run function. The command table lives in
 * commands.ts; main.ts parses, dispatches and turns errors into exit codes.
 */
import type { ParseArgsConfig } from 'node:util';
import type { Writable } from 'node:stream';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;
export type ParsedValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

export interface CliContext {
  /** --json: one machine-readable document on stdout. */
  readonly json: boolean;
  /** Progress bars: only on a TTY, never with --no-progress, --json or NO_COLOR. */
  readonly progress: boolean;
  readonly stdout: Writable;
  readonly stderr: Writable;
  /** A log line on stderr (never stdout, which carries data). */
  log(message: string): void;
  /** Write one JSON document to stdout. */
  writeJson(value: unknown): void;
}

export interface Command {
  /** 'pix2sky', or two words for grouped commands: 'wcs info', 'bench wcs'. */
  readonly name: string;
  readonly summary: string;
  /** Usage line(s) after `skycal <name>`. */
  readonly usage: string;
  readonly options: OptionSpec;
  readonly positionals?: { min: number; max: number };
  run(values: ParsedValues, positionals: string[], ctx: CliContext): Promise<void>;
}
