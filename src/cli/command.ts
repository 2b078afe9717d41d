/**
 * What every CLI command is: a name (one or two words), a table of options
 * that both parses the arguments (node:util parseArgs) and writes the help
 * and the README's reference, and a run function. The table of commands
 * lives in commands.ts; main.ts parses, dispatches and turns errors into
 * exit codes.
 */
import type { Readable, Writable } from 'node:stream';

/** One option: how it parses, and what `--help` says about it. */
export interface OptionDef {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  readonly multiple?: boolean;
  readonly default?: string | boolean;
  /** The value's name in help and usage: `N`, `F`, `REF` (string options). */
  readonly value?: string;
  /** One line for `--help` and the README. */
  readonly description: string;
  /** Checked by main before the command runs: a missing one is USAGE. */
  readonly required?: boolean;
  /**
   * Checked by main before the command runs; a SkycalError it throws becomes
   * USAGE (exit 2) naming the option, the same for every command.
   */
  readonly check?: (text: string) => void | Promise<void>;
}

export type OptionSpec = Readonly<Record<string, OptionDef>>;
export type ParsedValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** The process's streams and environment, passed in so that tests run main() in-process. */
export interface CliIo {
  readonly stdin: Readable;
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly isTTY: { readonly stdout: boolean; readonly stderr: boolean };
  readonly env: Readonly<Record<string, string | undefined>>;
}

export interface CliContext {
  /** --json: one machine-readable document on stdout. */
  readonly json: boolean;
  /** Progress bars: only on a TTY, never with --no-progress, --json, NO_COLOR or CI. */
  readonly progress: boolean;
  readonly stdin: Readable;
  readonly stdout: Writable;
  readonly stderr: Writable;
  /** stdout is a terminal (binary output is refused there). */
  readonly stdoutIsTTY: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** A log line on stderr (never stdout, which carries data). */
  log(message: string): void;
  /** Write one JSON document to stdout. */
  writeJson(value: unknown): void;
}

export interface Command {
  /** 'pix2sky', or two words for grouped commands: 'wcs info', 'bench wcs'. Its summary is in the command table. */
  readonly name: string;
  /** The positional arguments in the usage line: 'REPO', 'REPO NAME [FROM]', '[DIR]'. */
  readonly args?: string;
  readonly options: OptionSpec;
  readonly positionals?: { min: number; max: number };
  /** Lines printed under the options in --help. */
  readonly notes?: string;
  run(values: ParsedValues, positionals: string[], ctx: CliContext): Promise<void>;
}
