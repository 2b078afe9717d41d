/** Reading CLI inputs (a file or stdin) and writing outputs (a file or stdout), with IO errors naming the path. */
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../io/atomicFile.js';
import { SkycalError } from '../errors.js';
import type { CliContext } from './command.js';

export async function readTextInput(path: string | undefined): Promise<{ text: string; source: string }> {
  if (path === undefined || path === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return { text: Buffer.concat(chunks).toString('utf8'), source: 'stdin' };
  }
  try {
    return { text: readFileSync(path, 'utf8'), source: path };
  } catch (e) {
    throw new SkycalError('IO', `${path}: cannot read: ${(e as Error).message}`, { cause: e });
  }
}

export function writeTextOutput(path: string | undefined, text: string, ctx: CliContext): void {
  if (path === undefined || path === '-') {
    ctx.stdout.write(text);
    return;
  }
  writeFileAtomic(path, text);
}
