/** History: the run graph of every ref, newest first, with what each run wrote and where it failed (red, with the reason). */
import { errorBox, getJson, h, pageHref, query, s, shortTime } from './dom.js';
import { layoutGraph } from './graph.js';

interface Run {
  id: string; stage: string; parents: string[]; branch: string | null; committedAt: string | null; begunAt: string | null;
  configHash: string; config: unknown; softwareVersion: string; host: string; user: string;
  refs: { name: string; kind: string }[];
  datasets: { type: string; count: number }[];
  failures: { type: string; dataId: string; reason: string }[];
}

const LANE_PX = 22;
const NODE_TOP_PX = 22;

export async function historyPage(root: HTMLElement, params: URLSearchParams): Promise<void> {
  const asOf = params.get('asOf');
  let data: { runs: Run[]; asOf: string | null };
  try {
    data = await getJson(`/api/history${query({ asOf })}`);
  } catch (e) {
    root.append(errorBox(e));
    return;
  }
  root.append(h('h2', {}, 'History'), h('p', { class: 'lead' },
    `Every run committed to the repository${asOf ? ` as of ${shortTime(asOf)}` : ''}, newest first, drawn like git log --graph. ` +
    'A run is one execution of a pipeline stage; readers resolve each dataset from the newest run that wrote it — or that failed on it: ' +
    'a failure (red) stops the lookup, so no reader silently falls back to an older version.'));
  if (data.runs.length === 0) {
    root.append(h('p', {}, asOf ? 'Nothing had been committed yet at that time.' : 'No runs yet.'));
    return;
  }
  const layout = layoutGraph(data.runs);
  const gutter = layout.lanes * LANE_PX + 16;
  const list = h('div', { class: 'runs', style: `padding-left:${gutter}px` });
  const rows = data.runs.map((run) => {
    const failed = run.failures.length > 0;
    const row = h('div', { class: `run${failed ? ' failed' : ''}`, 'data-run': run.id },
      h('div', { class: 'run-head' },
        h('span', { class: 'stage' }, run.stage),
        ' ', h('code', { class: 'run-id', title: 'run id' }, run.id),
        ...run.refs.map((r) => h('span', { class: `ref ${r.kind}`, title: r.kind }, r.kind === 'tag' ? `tag ${r.name}` : r.name)),
        h('span', { class: 'time' }, shortTime(run.committedAt)),
      ),
      h('div', { class: 'run-meta' },
        `config ${run.configHash.slice(0, 10)}`,
        run.parents.length > 1 ? ` · merge of ${run.parents.join(' + ')}` : run.parents.length === 1 ? ` · parent ${run.parents[0]}` : ' · first run',
        ` · ${run.user}@${run.host} · ${run.softwareVersion}`,
      ),
      h('div', { class: 'run-config' }, JSON.stringify(run.config)),
      h('div', { class: 'datasets' }, run.datasets.length === 0 ? 'wrote no datasets' : `wrote ${run.datasets.map((d) => `${d.type} ×${d.count}`).join(', ')}`),
      failed ? h('ul', { class: 'failures' }, ...run.failures.map((f) => h('li', {},
        h('span', { class: 'x' }, '✗ failed '), h('b', {}, f.type), ' ',
        h('a', { href: pageHref('dataid', { dataId: f.dataId, asOf }) }, f.dataId), ': ', h('span', { class: 'reason' }, f.reason)))) : null,
    );
    list.append(row);
    return row;
  });
  const wrap = h('div', { class: 'graph-wrap' }, list);
  root.append(wrap);
  // Nodes sit beside each row's first line: measured after layout, since rows differ in height.
  const top = (i: number) => rows[i]!.offsetTop + NODE_TOP_PX / 2 + 2;
  const x = (i: number) => 10 + layout.lane[i]! * LANE_PX;
  const height = list.offsetHeight;
  const svg = s('svg', { class: 'graph', width: gutter, height, viewBox: `0 0 ${gutter} ${height}` });
  for (const e of layout.edges) {
    const [x1, y1, x2, y2] = [x(e.from), top(e.from), x(e.to), top(e.to)];
    const d = x1 === x2 ? `M${x1},${y1} L${x2},${y2}` : `M${x1},${y1} C${x1},${y1 + 30} ${x2},${y1 + 10} ${x2},${Math.min(y2, y1 + 40)} L${x2},${y2}`;
    svg.append(s('path', { d, class: 'edge' }));
  }
  data.runs.forEach((run, i) => {
    svg.append(s('circle', { cx: x(i), cy: top(i), r: 7, class: `node${run.failures.length ? ' failed' : ''}` }, s('title', {}, `${run.stage} ${run.id}`)));
  });
  wrap.prepend(svg);
}
