/** `skycal serve REPO`: the read-only web view of a repository (src/serve/), until Ctrl-C. */
import { DEFAULT_PORT, startServer } from '../serve/server.js';
import { optionalString, parseIntegerOption } from './args.js';
import type { Command } from './command.js';
import { errors } from '../errors.js';

export const serveCommand: Command = {
  name: 'serve',
  args: 'REPO',
  options: {
    port: { type: 'string', value: 'N', description: `the port (default ${DEFAULT_PORT}; 0 for any free one)` },
    host: { type: 'string', value: 'ADDR', description: 'the address to bind (default 127.0.0.1, loopback only)' },
  },
  notes: 'Prints the URL; Ctrl-C stops the server. Nothing is ever written to the repository.',
  positionals: { min: 1, max: 1 },
  async run(values, positionals, ctx) {
    const port = parseIntegerOption(optionalString(values, 'port'), 'port', DEFAULT_PORT, 0);
    if (port > 65535) throw errors.usage(`--port: expected 0..65535, got ${port}`);
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
