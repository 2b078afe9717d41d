/**
 * Help text, written from the same option tables that parse the arguments,
 * so `--help`, the usage line of an error and the README's command reference
 * (scripts/gen-cli-reference.mjs) cannot drift apart.
 */
import type { Command, OptionDef, OptionSpec } from './command.js';
import { commands, groups, type CommandEntry } from './commands.js';

/** Options every command takes. */
export const COMMON_OPTIONS: OptionSpec = {
  json: { type: 'boolean', default: false, description: 'one JSON document on stdout (errors too: {"error": {"code", "message"}})' },
  'no-progress': { type: 'boolean', default: false, description: 'no progress bar on stderr (there is none unless stderr is a terminal)' },
  help: { type: 'boolean', short: 'h', default: false, description: 'this help' },
};

function optionSynopsis(name: string, o: OptionDef): string {
  const flag = o.type === 'boolean' ? `--${name}` : `--${name} ${o.value ?? 'X'}`;
  const repeated = o.multiple ? `${flag}...` : flag;
  return o.required ? repeated : `[${repeated}]`;
}

/** `skycal NAME ARGS --required X [--optional Y]...` (the command's own options, not the common ones). */
export function usageLine(c: Command): string {
  const parts = [`skycal ${c.name}`];
  if (c.args) parts.push(c.args);
  for (const [name, o] of Object.entries(c.options)) parts.push(optionSynopsis(name, o));
  return parts.join(' ');
}

function optionLines(spec: OptionSpec): string[] {
  const rows = Object.entries(spec).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : ''}--${name}${o.type === 'string' ? ` ${o.value ?? 'X'}` : ''}`;
    const extra = [o.required ? 'required' : '', o.multiple ? 'repeatable' : '', typeof o.default === 'string' ? `default ${o.default}` : ''].filter((s) => s !== '');
    return [flag, `${o.description}${extra.length > 0 ? ` (${extra.join('; ')})` : ''}`] as const;
  });
  const width = Math.max(0, ...rows.map(([f]) => f.length));
  return rows.map(([f, d]) => `  ${f.padEnd(width)}  ${d}`);
}

export function commandHelp(entry: CommandEntry, c: Command): string {
  const lines = [`usage: ${usageLine(c)}`, '', entry.summary, ''];
  if (Object.keys(c.options).length > 0) lines.push('options:', ...optionLines(c.options), '');
  lines.push('common options:', ...optionLines(COMMON_OPTIONS));
  if (c.notes) lines.push('', c.notes);
  return `${lines.join('\n')}\n`;
}

function summaryLines(entries: readonly CommandEntry[]): string[] {
  const width = Math.max(8, ...entries.map((c) => c.name.length));
  return entries.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
}

export function mainHelp(): string {
  return [
    'usage: skycal <command> [options]',
    '',
    'Pixels are 0-based: (0,0) is the centre of the first pixel. Angles are in degrees.',
    '',
    'commands:',
    ...summaryLines(commands),
    '',
    'Every command takes --json (one JSON document on stdout), --no-progress and --help;',
    `\`skycal <command> --help\` lists its options, \`skycal ${groups.join('|')}\` a group's commands.`,
    'skycal --version prints the version.',
    '',
  ].join('\n');
}

export function groupHelp(group: string): string {
  const members = commands.filter((c) => c.name.startsWith(`${group} `));
  return [`usage: skycal ${group} <command> [options]`, '', 'commands:', ...summaryLines(members), '', `\`skycal ${group} <command> --help\` lists its options.`, ''].join('\n');
}

/**
 * The README's command reference: every command's usage line and options,
 * loaded from the table (all modules are loaded: for the generator and the
 * test, never at startup).
 */
export async function cliReference(): Promise<string> {
  const out: string[] = [];
  for (const entry of commands) {
    const c = await entry.load();
    if (out.length > 0) out.push('');
    out.push(usageLine(c), `    ${entry.summary}`);
    for (const line of optionLines(c.options)) out.push(`  ${line}`);
  }
  out.push('', 'common to every command:', ...optionLines(COMMON_OPTIONS));
  return out.join('\n');
}
