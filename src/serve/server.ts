/**
 * `skycal serve`: a read-only web view of a repository on Node's http
 * server. It serves two things only: the app's static files (a fixed table,
 * staticFiles.ts) and JSON/SVG/bytes read from the repository by ref,
 * dataId and content hash (repoView.ts). No route takes a file path; a path
 * with `..`, an encoded slash or dot, a backslash or a NUL is a 404 before
 * any routing. Errors are `{"error": {"code", "message"}}` with the CLI's
 * codes. GET and HEAD only.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SkycalError, errors, type ErrorCode } from '../errors.js';
import { parseTime } from '../butler/repository.js';
import { parseDataId } from '../butler/dataId.js';
import type { VersionSpec } from '../butler/adapter.js';
import { parseVersionArg } from '../butler/typeSpec.js';
import { openReadOnly } from './readOnly.js';
import { staticTable, type StaticFile } from './staticFiles.js';
import {
  compareView, dataIdView, dataIdsView, datasetFile, historyView, mapSvg, photoCalibKernelModel, sourcesView, summaryView,
} from './repoView.js';

export interface ServeOptions {
  readonly root: string;
  /** 0: any free port. Default 8737. */
  readonly port?: number;
  /** Default 127.0.0.1 (loopback only). */
  readonly host?: string;
  readonly log?: (line: string) => void;
}

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  /** Stop accepting, end open connections, close the repository. */
  close(): Promise<void>;
}

export const DEFAULT_PORT = 8737;

const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost', '[::1]']);

const STATUS: Readonly<Record<ErrorCode, number>> = {
  USAGE: 400, BAD_INPUT: 400, NOT_FOUND: 404, INVALID_DATASET: 409, CONFLICT: 409, NO_CONVERGENCE: 422, IO: 500, INTERNAL: 500,
};

/** Paths that could mean something outside the app, refused before routing. */
export function isSuspiciousPath(rawPath: string): boolean {
  return (
    !rawPath.startsWith('/') ||
    rawPath.startsWith('//') ||
    rawPath.includes('..') ||
    rawPath.includes('\\') ||
    rawPath.includes('\0') ||
    /%(2f|5c|2e|00)/i.test(rawPath)
  );
}

const SECURITY_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Content-Security-Policy': "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; connect-src 'self'; worker-src 'self'",
};

type Body = { bytes: Uint8Array; contentType: string; cache?: string };

const json = (value: unknown): Body => ({
  bytes: new TextEncoder().encode(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v))),
  contentType: 'application/json; charset=utf-8',
});

function send(req: IncomingMessage, res: ServerResponse, status: number, body: Body, extra: Record<string, string> = {}): void {
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'Content-Type': body.contentType,
    'Content-Length': String(body.bytes.byteLength),
    'Cache-Control': body.cache ?? 'no-store',
    ...extra,
  });
  res.end(req.method === 'HEAD' ? undefined : body.bytes);
}

function errorBody(e: SkycalError): Body {
  return json({ error: e.toJSON() });
}

interface Query {
  get(name: string): string | undefined;
}

function queryOf(params: URLSearchParams): Query {
  return { get: (name) => params.get(name) ?? undefined };
}

/** `asOf` as the repository takes it: ISO 8601, checked (BAD_INPUT otherwise). */
function asOfOf(q: Query): string | undefined {
  const t = q.get('asOf');
  return t === undefined || t === '' ? undefined : new Date(parseTime(t)).toISOString();
}

function required(q: Query, name: string): string {
  const v = q.get(name);
  if (v === undefined || v === '') throw errors.usage(`query parameter ${name} is required`);
  return v;
}

function versionOf(q: Query, name: string, fallback: string): VersionSpec {
  return parseVersionArg(q.get(name) || fallback, name, asOfOf(q));
}

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? (() => {});
  const loopback = host === '127.0.0.1' || host === 'localhost' || host === '::1';
  const { repo, close: closeRepo } = openReadOnly(options.root);
  const files = staticTable();
  // Comparisons cost a diff over every CCD: one computation per question and repository state, shared by concurrent requests.
  const compareCache = new Map<string, Promise<unknown>>();

  const api: Record<string, (q: Query) => Body | Promise<Body>> = {
    '/api/summary': () => json(summaryView(repo)),
    '/api/history': (q) => json(historyView(repo, { at: q.get('at') || undefined, asOf: asOfOf(q) })),
    '/api/dataids': (q) => json(dataIdsView(repo, { asOf: asOfOf(q) })),
    '/api/dataid': (q) => json(dataIdView(repo, required(q, 'dataId'), { asOf: asOfOf(q) })),
    '/api/sources': (q) => json(sourcesView(repo, required(q, 'dataId'), versionOf(q, 'version', 'main'))),
    '/api/compare': async (q) => {
      const from = versionOf(q, 'from', '@singleFrame');
      const to = versionOf(q, 'to', '@jointcal');
      const whereText = q.get('where');
      const where = whereText ? parseDataId(whereText) : undefined;
      const key = JSON.stringify([from, to, where, repo.registry.refs()]);
      let result = compareCache.get(key);
      if (result === undefined) {
        if (compareCache.size >= 16) compareCache.delete(compareCache.keys().next().value!);
        result = compareView(repo, from, to, where);
        compareCache.set(key, result);
        result.catch(() => compareCache.delete(key));
      }
      return json(await result);
    },
    '/api/plot/distortion.svg': (q) => ({ bytes: new TextEncoder().encode(mapSvg(repo, 'distortion', required(q, 'dataId'), versionOf(q, 'version', 'main'))), contentType: 'image/svg+xml' }),
    '/api/plot/photocalib.svg': (q) => ({ bytes: new TextEncoder().encode(mapSvg(repo, 'photocalib', required(q, 'dataId'), versionOf(q, 'version', 'main'))), contentType: 'image/svg+xml' }),
  };

  async function route(path: string, q: Query): Promise<Body> {
    const file: StaticFile | undefined = files.get(path);
    if (file !== undefined) return { bytes: file.bytes, contentType: file.contentType, cache: 'no-cache' };
    const handler = api[path];
    if (handler !== undefined) return handler(q);
    const dataset = /^\/api\/dataset\/([0-9a-f]{64})(\/photocalib-model)?$/.exec(path);
    if (dataset !== null) {
      const hash = dataset[1]!;
      // Content-addressed: the bytes of a hash never change.
      if (dataset[2] !== undefined) return { bytes: photoCalibKernelModel(repo, hash), contentType: 'application/octet-stream', cache: 'max-age=31536000, immutable' };
      return { ...datasetFile(repo, hash), cache: 'max-age=31536000, immutable' };
    }
    throw errors.notFound(path);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = req.url ?? '';
    const q = raw.indexOf('?');
    const rawPath = q < 0 ? raw : raw.slice(0, q);
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        send(req, res, 405, errorBody(errors.usage(`${req.method ?? '?'}: this server is read-only (GET and HEAD only)`)), { Allow: 'GET, HEAD' });
        return;
      }
      if (isSuspiciousPath(rawPath)) throw errors.notFound(JSON.stringify(rawPath));
      // A page elsewhere that rebinds its own name to 127.0.0.1 must not read the repository: loopback answers loopback names only.
      if (loopback && !LOOPBACK_NAMES.has((req.headers.host ?? '').replace(/:\d+$/, ''))) throw errors.badInput('Host', `${JSON.stringify(req.headers.host ?? '')} is not a name of this server`);
      let path: string;
      try {
        path = decodeURIComponent(rawPath);
      } catch {
        throw errors.notFound(JSON.stringify(rawPath));
      }
      const body = await route(path, queryOf(new URLSearchParams(q < 0 ? '' : raw.slice(q + 1))));
      send(req, res, 200, body);
    } catch (e) {
      // Anything else thrown here is a bug, as in the CLI's main(): INTERNAL (500), logged.
      const err = SkycalError.isSkycalError(e) ? e : errors.internal(e);
      if (err.code === 'IO' || err.code === 'INTERNAL') log(`skycal serve: ${req.method} ${raw}: ${err.message}`);
      if (!res.headersSent) send(req, res, STATUS[err.code], errorBody(err));
      else res.destroy();
    }
  }

  const server = createServer((req, res) => void handle(req, res));
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => {
      closeRepo();
      reject(errors.io(`listen ${host}:${options.port ?? DEFAULT_PORT}`, e));
    });
    server.listen({ port: options.port ?? DEFAULT_PORT, host, backlog: 2048 }, resolve);
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/`;
  let closing: Promise<void> | undefined;
  return {
    url, port, server,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => {
          closeRepo();
          resolve();
        });
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
