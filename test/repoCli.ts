/**
 * The CLI's main() in this process with stdout captured (the same parsing,
 * dispatch, JSON documents and exit codes as the bin, without a node start
 * per call), for the repository tests.
 */
import assert from 'node:assert/strict';

export async function cli(args: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const write = process.stdout.write;
  const writeErr = process.stderr.write;
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    // node --test's reporter frames (v8-serialized, 0xFF 0x0F) may be written while an async command awaits: pass them on.
    if (typeof chunk !== 'string' && chunk[0] === 0xff && chunk[1] === 0x0f) return (write as (...a: unknown[]) => boolean).call(process.stdout, chunk, ...rest);
    out += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('latin1');
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    // Loaded on first use: node --test runs this helper file as a test too, and it should cost nothing then.
    const { main } = await import('../src/cli/main.js');
    return { code: await main(args), out };
  } finally {
    process.stdout.write = write;
    process.stderr.write = writeErr;
  }
}

export async function sk(...args: string[]): Promise<{ code: number; json: any }> {
  const r = await cli([...args, '--json']);
  const lines = r.out.trim().split('\n');
  const error = lines.find((l) => l.startsWith('{"error"'));
  return { code: r.code, json: JSON.parse(error ?? r.out) };
}

export async function ok(...args: string[]): Promise<any> {
  const r = await sk(...args);
  assert.equal(r.code, 0, `skycal ${args.join(' ')} failed: ${JSON.stringify(r.json)}`);
  return r.json;
}

export async function fails(...args: string[]): Promise<{ code: number; error: any }> {
  const r = await sk(...args);
  assert.notEqual(r.code, 0, `skycal ${args.join(' ')} should fail`);
  return { code: r.code, error: r.json.error };
}
