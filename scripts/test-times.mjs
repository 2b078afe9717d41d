// A node --test reporter that says where the suite's time goes: seconds per
// test file (its top-level tests summed, slowest first) and every failure.
//   npm run build && node --test --test-concurrency=2 --test-reporter=./scripts/test-times.mjs dist/test/*.test.js
// Under concurrency the sums exceed the wall time: tests share the cores.
export default async function* testTimes(source) {
  const files = new Map();
  let tests = 0;
  let failed = 0;
  for await (const event of source) {
    if ((event.type !== 'test:pass' && event.type !== 'test:fail') || event.data.nesting !== 0) continue;
    const file = (event.data.file ?? '?').split('/').pop();
    files.set(file, (files.get(file) ?? 0) + (event.data.details?.duration_ms ?? 0));
    tests++;
    if (event.type === 'test:fail') {
      failed++;
      yield `FAIL ${file}: ${event.data.name}\n  ${String(event.data.details?.error?.message ?? '').split('\n').join('\n  ')}\n`;
    }
  }
  const rows = [...files].sort((a, b) => b[1] - a[1]);
  const total = rows.reduce((sum, [, ms]) => sum + ms, 0);
  yield `${rows.map(([file, ms]) => `${(ms / 1000).toFixed(1).padStart(7)} s  ${file}`).join('\n')}\n${tests} top-level tests, ${failed} failed, ${(total / 1000).toFixed(1)} s summed\n`;
  if (failed > 0) process.exitCode = 1;
}
