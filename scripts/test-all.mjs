// Runs every test suite of the repository (TypeScript via vitest, Python via unittest) and ends with
// one plain summary line: "N passed, M failed". Exit code is non-zero when anything failed.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const out = join(root, 'test-output');
mkdirSync(out, { recursive: true });
const python = process.env.PYTHON || 'python3';
let passed = 0;
let failed = 0;
const problems = [];

function run(label, cmd, args, opts = {}) {
  process.stdout.write(`\n=== ${label}: ${cmd} ${args.join(' ')}\n`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], ...opts });
  return r.status ?? 1;
}

// 1. Type check every TypeScript package.
for (const p of ['core', 'server', 'cli', 'ui']) {
  if (!existsSync(join(root, 'packages', p, 'tsconfig.json'))) continue;
  const status = run(`typecheck ${p}`, 'npx', ['tsc', '-p', `packages/${p}`, '--noEmit']);
  if (status === 0) passed++;
  else {
    failed++;
    problems.push(`typecheck ${p}`);
  }
}

// 2. Every TypeScript test (vitest projects).
const vitestJson = join(out, 'vitest.json');
const vstatus = run('vitest', 'npx', [
  'vitest',
  'run',
  '--reporter=default',
  '--reporter=json',
  `--outputFile.json=${vitestJson}`,
]);
if (existsSync(vitestJson)) {
  const r = JSON.parse(readFileSync(vitestJson, 'utf8'));
  passed += r.numPassedTests;
  failed += r.numFailedTests;
  if (r.numFailedTests > 0) problems.push(`vitest: ${r.numFailedTests} failed`);
  // Name every failed test and its first error line, so the summary at the end of a long log says what broke.
  for (const file of r.testResults ?? []) {
    for (const a of file.assertionResults ?? []) {
      if (a.status !== 'failed') continue;
      const first = String(a.failureMessages?.[0] ?? '')
        .split('\n')[0]
        .slice(0, 300);
      problems.push(`  ${file.name.replace(root, '')}: ${a.fullName}\n      ${first}`);
    }
    if (file.status === 'failed' && !(file.assertionResults ?? []).some((a) => a.status === 'failed')) {
      problems.push(
        `  ${file.name.replace(root, '')}: ${String(file.message ?? 'suite failed')
          .split('\n')[0]
          .slice(0, 300)}`,
      );
    }
  }
  if (vstatus !== 0 && r.numFailedTests === 0) {
    failed++;
    problems.push('vitest exited non-zero (a suite failed to load?)');
  }
} else {
  failed++;
  problems.push('vitest produced no report');
}

// 3. Every Python test directory (unittest, standard library only).
const pyDirs = ['sdk/python/tests'];
const examples = join(root, 'examples');
if (existsSync(examples)) {
  for (const d of readdirSync(examples))
    if (existsSync(join(examples, d, 'tests'))) pyDirs.push(`examples/${d}/tests`);
}
for (const dir of pyDirs) {
  if (!existsSync(join(root, dir))) continue;
  process.stdout.write(`\n=== python ${dir}\n`);
  const r = spawnSync(python, ['-m', 'unittest', 'discover', '-s', dir, '-t', dir, '-v'], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'inherit', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
  process.stderr.write(r.stderr ?? '');
  const ran = /Ran (\d+) tests?/.exec(r.stderr ?? '');
  const total = ran ? Number(ran[1]) : 0;
  const m = /FAILED \(([^)]*)\)/.exec(r.stderr ?? '');
  let bad = 0;
  if (m)
    for (const part of m[1].split(',')) if (/failures|errors/.test(part)) bad += Number(part.split('=')[1]);
  const skipped = /skipped=(\d+)/.exec(r.stderr ?? '');
  const ok = total - bad - (skipped ? Number(skipped[1]) : 0);
  passed += ok;
  failed += bad;
  if (r.status !== 0 && bad === 0) {
    failed++;
    problems.push(`${dir}: unittest exited ${r.status}`);
  } else if (bad > 0) {
    problems.push(`${dir}: ${bad} failed`);
    for (const line of (r.stderr ?? '').split('\n'))
      if (/^(FAIL|ERROR): /.test(line)) problems.push(`  ${line}`);
  }
}

if (problems.length) process.stdout.write(`\nProblems:\n${problems.map((p) => `- ${p}`).join('\n')}\n`);
process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
process.exit(failed > 0 ? 1 : 0);
