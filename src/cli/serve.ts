/** `skycal serve REPO`: the read-only web view of a repository (src/serve/), until Ctrl-C. */
import { DEFAULT_PORT, startServer } from '../serve/server.js';
import { optionalString, parseIntegerOption } from './args.js';
import type { Command } from './command.js';
import { SkycalError } from '../errors.js';

export const serveCommand: Command = {
  name: 'serve',
  summary: 'a read-only web view of a repository: history, dataIds, WCS comparison, sources derived in the browser',
  usage: `REPO [--port N] [--host 127.0.0.1]   (port ${DEFAULT_PORT} by default, 0 for any free one; Ctrl-C stops)`,
  options: { port: { type: 'string' }, host: { type: 'string' } },
  positionals: { min: 1, max: 1 },
  async run(values, positionals, ctx) {
    const port = parseIntegerOption(optionalString(values, 'port'), 'port', DEFAULT_PORT, 0);
    if (port > 65535) throw new SkycalError('USAGE', `--port: expected 0..65535, got ${port}`);
    const server = await startServer({ root: positionals[0]!, port, host: optionalString(values, 'host') ?? '127.0.0.1', log: (line) => ctx.log(line) });
    if (ctx.json) ctx.writeJson({ url: server.url });
    else ctx.stdout.write(`${server.url}\n`);
    ctx.log(`skycal serve: ${positionals[0]} (read-only) at ${server.url} — open it in a browser; Ctrl-C stops`);
    await new Promise<void>((resolve) => {
      const stop = () => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        void server.close().then(resolve);
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
  },
};
