#!/usr/bin/env node
/**
 * skycal's command line (DESIGN.md §6): data on stdout, logs and progress on
 * stderr, `--json` for one machine-readable document, exit 0 on success,
 * 2 on a usage error, 1 on any other error.
 */
import { parseArgs } from 'node:util';
import { SkycalError } from '../errors.js';
import type { CliContext, Command, OptionSpec } from './command.js';
import { commands } from './commands.js';

const COMMON: OptionSpec = {
  json: { type: 'boolean', default: false },
  'no-progress': { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
};

function findCommand(argv: string[]): { command: Command; rest: string[] } | undefined {
  const two = `${argv[0]} ${argv[1]}`;
  const byTwo = commands.find((c) => c.name === two);
  if (byTwo) return { command: byTwo, rest: argv.slice(2) };
  const byOne = commands.find((c) => c.name === argv[0]);
  if (byOne) return { command: byOne, rest: argv.slice(1) };
  return undefined;
}

function helpText(): string {
  const width = Math.max(...commands.map((c) => c.name.length), 8);
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return [
    'usage: skycal <command> [options]',
    '',
    'Pixels are 0-based: (0,0) is the centre of the first pixel. Angles are in degrees.',
    '',
    'commands:',
    ...lines,
    '',
    'Every command takes --json (one JSON document on stdout) and --help.',
  ].join('\n');
}

export function makeContext(json: boolean, noProgress: boolean): CliContext {
  const stdout = process.stdout;
  const stderr = process.stderr;
  return {
    json,
    progress: !json && !noProgress && stderr.isTTY === true && !process.env['NO_COLOR'] && !process.env['CI'],
    stdout,
    stderr,
    log: (message) => void stderr.write(`${message}\n`),
    writeJson: (value) => void stdout.write(`${JSON.stringify(value, null, 2)}\n`),
  };
}

export async function main(argv: string[]): Promise<number> {
  const wantsJson = argv.includes('--json');
  try {
    if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
      process.stdout.write(`${helpText()}\n`);
      return argv.length === 0 ? 2 : 0;
    }
    const found = findCommand(argv);
    if (!found) throw new SkycalError('USAGE', `unknown command ${JSON.stringify(argv.slice(0, 2).join(' '))}; see skycal --help`);
    const { command, rest } = found;
    let parsed;
    try {
      parsed = parseArgs({
        args: rest,
        options: { ...COMMON, ...command.options },
        allowPositionals: true,
        strict: true,
      });
    } catch (e) {
      throw new SkycalError('USAGE', `${command.name}: ${(e as Error).message}`);
    }
    const { values, positionals } = parsed;
    if (values['help']) {
      process.stdout.write(`usage: skycal ${command.name} ${command.usage}\n\n${command.summary}\n`);
      return 0;
    }
    const limits = command.positionals ?? { min: 0, max: 0 };
    if (positionals.length < limits.min || positionals.length > limits.max) {
      throw new SkycalError('USAGE', `usage: skycal ${command.name} ${command.usage}`);
    }
    const ctx = makeContext(values['json'] === true, values['no-progress'] === true);
    await command.run(values, positionals, ctx);
    return 0;
  } catch (e) {
    const err = SkycalError.isSkycalError(e)
      ? e
      : new SkycalError('IO', e instanceof Error ? e.message : String(e), { cause: e });
    if (wantsJson) process.stdout.write(`${JSON.stringify({ error: err.toJSON() })}\n`);
    process.stderr.write(`skycal: error [${err.code}]: ${err.message}\n`);
    if (!SkycalError.isSkycalError(e) && process.env['SKYCAL_DEBUG']) console.error(e);
    return err.code === 'USAGE' ? 2 : 1;
  }
}

// Run when executed as the bin (not when imported by tests).
const invokedAs = process.argv[1] ?? '';
if (/[\\/]cli[\\/]main\.js$/.test(invokedAs) || /[\\/]skycal$/.test(invokedAs)) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.stderr.write(`skycal: internal error: ${String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
