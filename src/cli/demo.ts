/** `skycal demo [DIR]`: the whole story on a synthetic camera, explained as it goes. */
import { relative } from 'node:path';
import { runDemo, type DemoSummary } from '../demo/demo.js';
import { WORKERS_OPTION, optionalString, parseIntegerOption } from './args.js';
import { workersOption } from './catalogCommand.js';
import type { Command } from './command.js';

const MAX_SOURCES = 10_000_000;
const MAX_VISITS = 100;

function explain(s: DemoSummary): string {
  const rel = (p: string) => relative(process.cwd(), p) || '.';
  const failed = s.failed[0]!;
  const valid = s.diff.filter((d) => d.medianMas !== null);
  const medians = valid.map((d) => d.medianMas!).sort((a, b) => a - b);
  const bad = Object.entries(s.recompute.badByStatus).filter(([, n]) => n > 0);
  return [
    '',
    `What happened (all in ${rel(s.dir)}):`,
    `  • A repository was created at ${rel(s.repository)} (embedded SQLite registry; nothing to set up).`,
    `  • singleFrame (run ${s.runs.singleFrame}) stored a WCS, a constant calibration and a source catalog`,
    `    (x, y and instrumental fluxes only, ${s.sourcesPerCcd.toLocaleString('en-US')} sources) for each of ${s.visits.length} visits x ${s.detectors.length} detectors.`,
    `  • jointcal (run ${s.runs.jointcal}) declared a new WCS and a spatially varying Chebyshev calibration for every`,
    `    detector, and failed on ${failed.dataId}: "${failed.reason}".`,
    `    Its calibration there was never produced, so the commit recorded it as failed too.`,
    `  • recompute at main derived coord_ra, coord_dec and ${'base_PsfFlux'}_flux/_fluxErr/_mag/_magErr on the fly for`,
    `    ${s.recompute.rows.toLocaleString('en-US')} sources (${Math.round(s.recompute.rowsPerSecond).toLocaleString('en-US')} rows/s) into ${rel(s.recompute.out)}.`,
    ...s.recompute.skipped.map((k) => `    INVALID, not recomputed: ${k.dataId} — ${k.reason}`),
    `    The failed detector is reported invalid: it is NOT silently given singleFrame's older WCS.`,
    `    ${bad.length === 0 ? 'No bad points.' : `Bad points: ${bad.map(([k, n]) => `${k} ${n}`).join(', ')}.`}`,
    `  • diff @singleFrame -> @jointcal: median shift per detector ${medians[0]?.toFixed(1)}–${medians[medians.length - 1]?.toFixed(1)} mas;`,
    `    against the truth the camera was made from, the median error went from ${s.accuracy.singleFrameMedianMas.toFixed(1)} mas (singleFrame)`,
    `    to ${s.accuracy.jointcalMedianMas.toFixed(1)} mas (jointcal).`,
    '',
    'Plots:',
    `  ${rel(s.plots.distortion)}   SIP distortion of one detector`,
    `  ${rel(s.plots.photoCalib)}   jointcal's calibration c(x, y)/mean of one detector`,
    `  ${rel(s.plots.diff)}   shift between the two WCS versions over the visit with the failed CCD (hatched)`,
    '',
    'Try next:',
    `  npx skycal log ${rel(s.repository)}`,
    `  npx skycal get ${rel(s.repository)} --type wcs --data-id ${failed.dataId}          # INVALID_DATASET`,
    `  npx skycal get ${rel(s.repository)} --type wcs@singleFrame --data-id ${failed.dataId}   # the older version, asked for by name`,
    `  npx skycal diff ${rel(s.repository)} --type wcs --from @singleFrame --to @jointcal`,
    `  npx skycal serve ${rel(s.repository)}          # the same story in a browser`,
    '',
  ].join('\n');
}

export const demoCommand: Command = {
  name: 'demo',
  args: '[DIR]',
  options: {
    sources: { type: 'string', value: 'N', description: `sources per CCD (default 20,000, at most ${MAX_SOURCES.toLocaleString('en-US')})` },
    visits: { type: 'string', value: 'N', description: `visits of 6 CCDs (default 3, at most ${MAX_VISITS})` },
    workers: WORKERS_OPTION,
  },
  notes: 'DIR defaults to ./demo-out; it is cleared if it is an earlier demo folder, and refused if it is any other non-empty folder.',
  positionals: { min: 0, max: 1 },
  async run(values, positionals, ctx) {
    const dir = positionals[0] ?? 'demo-out';
    const summary = await runDemo(dir, {
      sourcesPerCcd: parseIntegerOption(optionalString(values, 'sources'), 'sources', 20000, 1, MAX_SOURCES),
      visits: parseIntegerOption(optionalString(values, 'visits'), 'visits', 3, 1, MAX_VISITS),
      workers: workersOption(values),
      log: ctx.json ? () => {} : (line) => ctx.log(line),
    });
    if (ctx.json) ctx.writeJson(summary);
    else ctx.stdout.write(explain(summary));
  },
};
