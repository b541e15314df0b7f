// Runs every test suite of the repository (TypeScript via vitest, Python via unittest) and ends with
// one plain summary line: "N passed, M failed". Exit code is non-zero when anything failed.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
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

// 3. Every Python test directory (unittest, standard library only) under PYTHON (make sets
//    Debian's /usr/bin/python3, which sees the frameworks the integration tests need).
const interpreters = [];
// Adds one unittest run's counts to the totals; returns "N passed, M failed" for that run.
function countUnittest(label, stderr, status) {
  const ran = /Ran (\d+) tests?/.exec(stderr);
  const total = ran ? Number(ran[1]) : 0;
  const m = /FAILED \(([^)]*)\)/.exec(stderr);
  let bad = 0;
  if (m)
    for (const part of m[1].split(',')) if (/failures|errors/.test(part)) bad += Number(part.split('=')[1]);
  const skipped = /skipped=(\d+)/.exec(stderr);
  const ok = total - bad - (skipped ? Number(skipped[1]) : 0);
  passed += ok;
  failed += bad;
  if (status !== 0 && bad === 0) {
    failed++;
    bad++;
    problems.push(`${label}: unittest exited ${status}`);
  } else if (bad > 0) {
    problems.push(`${label}: ${bad} failed`);
    for (const line of stderr.split('\n')) if (/^(FAIL|ERROR): /.test(line)) problems.push(`  ${line}`);
  }
  return `${ok} passed, ${bad} failed`;
}
function pythonVersion(exe) {
  const r = spawnSync(
    exe,
    [
      '-c',
      'import sys; print("%d.%d.%d" % sys.version_info[:3] + ("" if getattr(sys, "_is_gil_enabled", lambda: True)() else "t"))',
    ],
    { encoding: 'utf8' },
  );
  return r.status === 0 ? r.stdout.trim() : null;
}
const mainVersion = pythonVersion(python) ?? 'unknown';
const pyDirs = ['sdk/python/tests'];
const examples = join(root, 'examples');
if (existsSync(examples)) {
  for (const d of readdirSync(examples))
    if (existsSync(join(examples, d, 'tests'))) pyDirs.push(`examples/${d}/tests`);
}
for (const dir of pyDirs) {
  if (!existsSync(join(root, dir))) continue;
  process.stdout.write(`\n=== python ${mainVersion} ${dir}\n`);
  const r = spawnSync(python, ['-m', 'unittest', 'discover', '-s', dir, '-t', dir, '-v'], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'inherit', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
  process.stderr.write(r.stderr ?? '');
  interpreters.push(
    `${mainVersion} (${python}) ${dir}: ${countUnittest(`${dir} [python ${mainVersion}]`, r.stderr ?? '', r.status ?? 1)}`,
  );
}

// 4. The SDK's tests again under every other CPython >= 3.9 on the machine: one per minor version
//    (the newest patch), found under $PYENV_ROOT/versions (~/.pyenv/versions), or the interpreters
//    listed in HOTPATH_TEST_PYTHONS (colon-separated; "none" runs none). Framework tests skip
//    themselves where the framework is not importable. Two interpreters run at a time.
// Run under PYTHON only: the pytest plugin's tests start Debian's pytest whatever runs them, and the
// end-to-end test (a real server, ~20 s) repeats what test_agent.py checks on every interpreter.
const SDK_TESTS_ONCE = new Set(['test_pytest_plugin.py', 'test_e2e_server.py']);
function extraPythons() {
  const listed = process.env.HOTPATH_TEST_PYTHONS;
  if (listed !== undefined) return listed === 'none' ? [] : listed.split(':').filter(Boolean);
  const dir = join(process.env.PYENV_ROOT || join(homedir(), '.pyenv'), 'versions');
  if (!existsSync(dir)) return [];
  const newest = new Map(); // "3.12" or "3.13t" -> [patch, path]
  for (const name of readdirSync(dir)) {
    const m = /^3\.(\d+)\.(\d+)(t?)$/.exec(name);
    const exe = join(dir, name, 'bin', 'python');
    if (!m || Number(m[1]) < 9 || !existsSync(exe)) continue;
    const key = `3.${m[1]}${m[3]}`;
    if (!newest.has(key) || newest.get(key)[0] < Number(m[2])) newest.set(key, [Number(m[2]), exe]);
  }
  const mainMinor = mainVersion.replace(/^(\d+\.\d+)\.\d+/, '$1');
  return [...newest.entries()]
    .filter(([key]) => key !== mainMinor)
    .sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))
    .map(([, [, exe]]) => exe);
}
function runSdkTests(exe) {
  const version = pythonVersion(exe);
  const testsDir = join(root, 'sdk/python/tests');
  const modules = readdirSync(testsDir)
    .filter((f) => /^test.*\.py$/.test(f) && !SDK_TESTS_ONCE.has(f))
    .sort()
    .map((f) => f.slice(0, -3));
  return new Promise((done) => {
    if (!version) {
      failed++;
      problems.push(`python ${exe}: cannot run it`);
      interpreters.push(`${exe}: cannot run it`);
      return done();
    }
    let output = '';
    const child = spawn(exe, ['-m', 'unittest', '-v', ...modules], {
      cwd: testsDir,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Tests that only prove another test can fail (by chance: a crash race) run once, under PYTHON.
      env: { ...process.env, HOTPATH_TEST_EXTRA_INTERPRETER: '1' },
    });
    let stderr = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => {
      output += d;
      stderr += d;
    });
    child.on('close', (status) => {
      process.stdout.write(`\n=== python ${version} (${exe}) sdk/python/tests\n${output}`);
      const label = `sdk/python/tests [python ${version}]`;
      interpreters.push(`${version} (${exe}) sdk/python/tests: ${countUnittest(label, stderr, status ?? 1)}`);
      done();
    });
  });
}
const queue = extraPythons();
await Promise.all(
  [0, 1].map(async () => {
    while (queue.length) await runSdkTests(queue.shift());
  }),
);
process.stdout.write(
  `\nPython interpreters that ran tests:\n${interpreters.map((i) => `- ${i}`).join('\n')}\n`,
);

if (problems.length) process.stdout.write(`\nProblems:\n${problems.map((p) => `- ${p}`).join('\n')}\n`);
process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
process.exit(failed > 0 ? 1 : 0);
