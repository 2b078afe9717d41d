#!/usr/bin/env node
/**
 * skycal's command line (DESIGN.md §6): data on stdout, logs and progress on
 * stderr, `--json` for one machine-readable document (errors included, and
 * then only there), exit 0 on success, 2 on a usage error, 70 on a bug
 * (INTERNAL), 1 on any other error.
 *
 * main(argv, io) takes the process's streams as an argument, so tests run
 * it in-process (test/helpers.ts runCli). Only this file and commands.ts
 * load at startup; a command's module is imported when it runs.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { SkycalError, errors, type ErrorCode } from '../errors.js';
import { packageVersion } from '../packageFiles.js';
import type { CliContext, CliIo, Command, OptionSpec, ParsedValues } from './command.js';
import { commands, groups, type CommandEntry } from './commands.js';
import { COMMON_OPTIONS, commandHelp, groupHelp, mainHelp, usageLine } from './help.js';
import { isBrokenPipe, exitQuietlyOnBrokenPipe } from './io.js';

/** The real process's streams. */
export function processIo(): CliIo {
  return {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    isTTY: { stdout: process.stdout.isTTY === true, stderr: process.stderr.isTTY === true },
    env: process.env,
  };
}

export function makeContext(io: CliIo, json: boolean, noProgress: boolean): CliContext {
  const { stdout, stderr } = io;
  return {
    json,
    progress: !json && !noProgress && io.isTTY.stderr && !io.env['NO_COLOR'] && !io.env['CI'],
    stdin: io.stdin,
    stdout,
    stderr,
    stdoutIsTTY: io.isTTY.stdout,
    env: io.env,
    log: (message) => void stderr.write(`${message}\n`),
    writeJson: (value) => void stdout.write(`${JSON.stringify(value, null, 2)}\n`),
  };
}

export function exitCodeFor(code: ErrorCode): number {
  return code === 'USAGE' ? 2 : code === 'INTERNAL' ? 70 : 1;
}

const isHelp = (a: string | undefined) => a === '--help' || a === '-h';

/** The command named by the first one or two words, and the arguments after them. */
function findCommand(argv: string[]): { entry: CommandEntry; rest: string[] } | { group: string } {
  const first = argv[0]!;
  if (first.startsWith('-')) throw errors.usage(`unknown option ${first}; see skycal --help`);
  if (groups.includes(first)) {
    const second = argv[1];
    if (second === undefined || second.startsWith('-')) return { group: first };
    const entry = commands.find((c) => c.name === `${first} ${second}`);
    if (!entry) throw errors.usage(`unknown command ${JSON.stringify(`${first} ${second}`)}; see skycal ${first} --help`);
    return { entry, rest: argv.slice(2) };
  }
  const entry = commands.find((c) => c.name === first);
  if (!entry) throw errors.usage(`unknown command ${JSON.stringify(first)}; see skycal --help`);
  return { entry, rest: argv.slice(1) };
}

/** parseArgs' own config from an option table (the descriptions and checks stay ours). */
function parseConfig(spec: OptionSpec): NonNullable<ParseArgsConfig['options']> {
  return Object.fromEntries(
    Object.entries(spec).map(([name, o]) => [
      name,
      { type: o.type, ...(o.short !== undefined && { short: o.short }), ...(o.multiple !== undefined && { multiple: o.multiple }), ...(o.default !== undefined && { default: o.default }) },
    ]),
  ) as NonNullable<ParseArgsConfig['options']>;
}

/** Required options present, checked options well formed: USAGE naming the option, before any work. */
async function checkOptions(command: Command, values: ParsedValues): Promise<void> {
  for (const [name, o] of Object.entries(command.options)) {
    const v = values[name];
    if (o.check === undefined || v === undefined) continue;
    for (const text of Array.isArray(v) ? v : [v]) {
      if (typeof text !== 'string') continue;
      try {
        await o.check(text);
      } catch (e) {
        if (!SkycalError.isSkycalError(e)) throw e;
        throw errors.usage(`--${name}: ${e.message}`);
      }
    }
  }
  for (const [name, o] of Object.entries(command.options)) {
    const v = values[name];
    if (o.required && (v === undefined || v === '')) throw errors.usage(`${command.name}: missing required option --${name}`);
  }
}

export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const wantsJson = argv.includes('--json');
  try {
    if (argv[0] === '--version' || argv[0] === '-V') {
      const { name, version } = packageVersion();
      io.stdout.write(wantsJson ? `${JSON.stringify({ name, version })}\n` : `${name} ${version}\n`);
      return 0;
    }
    if (argv.length === 0 || isHelp(argv[0]) || argv[0] === 'help') {
      io.stdout.write(mainHelp());
      return argv.length === 0 ? 2 : 0;
    }
    const found = findCommand(argv);
    if ('group' in found) {
      if (argv.slice(1).some(isHelp)) {
        io.stdout.write(groupHelp(found.group));
        return 0;
      }
      if (wantsJson) throw errors.usage(`skycal ${found.group}: which command? see skycal ${found.group} --help`);
      io.stdout.write(groupHelp(found.group));
      return 2;
    }
    const { entry, rest } = found;
    const command = await entry.load();
    let parsed;
    try {
      parsed = parseArgs({ args: rest, options: parseConfig({ ...COMMON_OPTIONS, ...command.options }), allowPositionals: true, strict: true });
    } catch (e) {
      throw errors.usage(`${command.name}: ${(e as Error).message}`);
    }
    const { values, positionals } = parsed;
    if (values['help']) {
      io.stdout.write(commandHelp(entry, command));
      return 0;
    }
    const limits = command.positionals ?? { min: 0, max: 0 };
    if (positionals.length < limits.min || positionals.length > limits.max) {
      throw errors.usage(`usage: ${usageLine(command)}`);
    }
    await checkOptions(command, values);
    await command.run(values, positionals, makeContext(io, values['json'] === true, values['no-progress'] === true));
    return 0;
  } catch (e) {
    // A reader that went away (`| head`) is not an error: stop quietly, as other Unix tools do.
    if (isBrokenPipe(e)) return 0;
    const err = SkycalError.isSkycalError(e) ? e : errors.internal(e);
    if (wantsJson) io.stdout.write(`${JSON.stringify({ error: err.toJSON() })}\n`);
    else io.stderr.write(`skycal: error [${err.code}]: ${err.message}\n`);
    if (err.code === 'INTERNAL' && io.env['SKYCAL_DEBUG']) io.stderr.write(`${(e as Error)?.stack ?? String(e)}\n`);
    return exitCodeFor(err.code);
  }
}

// Run when executed as the bin (not when imported by tests): dist/bundle/skycal.js (package.json's bin, also
// as a node_modules/.bin/skycal link) or the unbundled dist/src/cli/main.js.
const invokedAs = process.argv[1] ?? '';
if (/[\\/]cli[\\/]main\.js$/.test(invokedAs) || /[\\/]skycal(\.js)?$/.test(invokedAs)) {
  exitQuietlyOnBrokenPipe(process.stdout);
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.stderr.write(`skycal: internal error: ${String(e)}\n`);
      process.exitCode = 70;
    },
  );
}
