// The CI regression gate end to end: the rideshare suite (examples/rideshare/ci) profiled by the
// pytest plugin three times as the base, twice with check_driver_availability made twice as
// slow and twice unchanged; `hotpath diff --fail-on 10%` must fail the first naming the function
// and pass the second, in table, markdown, JSON and HTML output.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.ts';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const RIDESHARE = join(REPO, 'examples/rideshare');
const SLOWED = 'check_driver_availability (lib/utility.py)';
// The general rule gates the suite's own code (lib/): waits in threading and pytest swing with the
// machine's load in wall time (docs/ci.md has the false-positive rates measured with and without).
const GATE = ['--fail-on', '10%', '--scope', '\\(lib/'];

function pythonWithPytest(): string | undefined {
  for (const exe of [process.env.PYTHON, '/usr/bin/python3', 'python3']) {
    if (exe === undefined) continue;
    if (spawnSync(exe, ['-c', 'import pytest'], { stdio: 'ignore' }).status === 0) return exe;
  }
  return undefined;
}

const PYTHON = pythonWithPytest();

/** Runs the suite in `root` (a copy of examples/rideshare's lib and ci) and returns the profile path. */
function profileSuite(root: string, out: string): string {
  const r = spawnSync(
    PYTHON!,
    [
      ...['-m', 'pytest', '-q', '-p', 'no:cacheprovider', '-p', 'hotpath.pytest', '--hotpath'],
      // Wall time: the rideshare searches run until a deadline, so their CPU share swings with
      // whatever else the machine runs, while their wall time does not.
      ...['--hotpath-wall', '--hotpath-sample-rate', '250', '--hotpath-output', out, 'ci'],
    ],
    {
      cwd: root,
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, PYTHONPATH: join(REPO, 'sdk/python'), HOTPATH_SERVER_ADDRESS: '' },
    },
  );
  expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
  expect(r.stdout).toContain('hotpath: wrote');
  return out;
}

describe.skipIf(PYTHON === undefined)(
  `hotpath diff as a CI gate${PYTHON === undefined ? ' (skipped: no Python with pytest; Debian: apt-get install python3-pytest)' : ''}`,
  () => {
    let dir: string;
    let base: string;
    let slow: string;
    let same: string;

    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'hotpath-gate-'));
      const copy = (name: string) => {
        const root = join(dir, name);
        cpSync(join(RIDESHARE, 'lib'), join(root, 'lib'), { recursive: true });
        cpSync(join(RIDESHARE, 'ci'), join(root, 'ci'), { recursive: true });
        return root;
      };
      const baseRoot = copy('base');
      const slowRoot = copy('slow');
      const utility = join(slowRoot, 'lib/utility.py');
      const text = readFileSync(utility, 'utf8');
      const slowed = text.replace(
        'deadline = time.time() + n / 2 * settings.work_scale',
        'deadline = time.time() + n * settings.work_scale',
      );
      expect(slowed).not.toBe(text);
      writeFileSync(utility, slowed);
      // Interleaved, as the CI recipe does, so every side sees the same machine load; two head runs
      // each: their spread joins the noise estimate (docs/ci.md has the false-positive rates).
      const run = (root: string, name: string) => profileSuite(root, join(dir, `${name}.pb.gz`));
      const b: string[] = [];
      const s: string[] = [];
      const u: string[] = [];
      for (let i = 1; i <= 3; i++) {
        b.push(run(baseRoot, `base${i}`));
        if (i <= 2) s.push(run(slowRoot, `slow${i}`));
        if (i <= 2) u.push(run(baseRoot, `same${i}`));
      }
      base = b.join(',');
      slow = s.join(',');
      same = u.join(',');
    }, 180_000);

    afterAll(() => {
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('fails the slowed function and names it', async () => {
      const r = await runCli(['diff', base, slow, ...GATE]);
      expect(r.code, r.stdout + r.stderr).toBe(1);
      expect(r.stderr).toContain(`regression: ${SLOWED}: total share +`);
      expect(r.stdout).toMatch(new RegExp(`FAIL ${SLOWED.replace(/[()]/g, '\\$&')}`));
      expect(r.stdout).toContain('base: ');
      expect(r.stdout).toContain('(3 runs)');
    });

    it('passes an unchanged head', async () => {
      const r = await runCli(['diff', base, same, ...GATE]);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain('passed: no function grew past 10%');
    });

    it('holds a function to its own rule', async () => {
      // 500 % for the slowed function: it doubled, which is within its own rule.
      const r = await runCli([
        'diff',
        base,
        slow,
        '--fail-on',
        '10%',
        '--fail-on',
        'check_driver_availability=500%',
      ]);
      expect(r.stderr).not.toContain(`regression: ${SLOWED}`);
    });

    it('writes a pull-request comment in markdown', async () => {
      const r = await runCli(['diff', base, slow, ...GATE, '--format', 'markdown']);
      expect(r.code).toBe(1);
      const lines = r.stdout.split('\n');
      expect(lines[0]).toMatch(/^### Hotpath: \d+ regressions?$/);
      expect(lines).toContain('| | function | self % base → head | total % base → head | total growth | z |');
      const row = lines.find((l) => l.includes(`\`${SLOWED}\``))!;
      expect(row).toMatch(
        /^\| \*\*FAIL\*\* \| `check_driver_availability \(lib\/utility.py\)` \| [\d.]+% → [\d.]+% \|/,
      );
    });

    it('writes JSON for tools', async () => {
      const r = await runCli(['diff', base, slow, ...GATE, '--format', 'json']);
      const body = JSON.parse(r.stdout) as {
        passed: boolean;
        base: { runs: number };
        violations: { function: string; totalGrowth: number; rule: string; z: number }[];
        functions: { function: string; base: { totalShare: number }; head: { totalShare: number } }[];
      };
      expect(body.passed).toBe(false);
      expect(body.base.runs).toBe(3);
      const v = body.violations.find((x) => x.function === SLOWED)!;
      expect(v.rule).toBe('10%');
      expect(v.totalGrowth).toBeGreaterThan(0.1);
      expect(v.z).toBeGreaterThan(3);
      const unchanged = JSON.parse((await runCli(['diff', base, same, ...GATE, '--format', 'json'])).stdout);
      expect(unchanged).toMatchObject({ passed: true, violations: [] });
    });

    it('writes a self-contained diff flame graph page', async () => {
      const html = join(dir, 'diff.html');
      const r = await runCli(['diff', base, slow, '--html', html]);
      expect(r.code).toBe(0);
      const page = readFileSync(html, 'utf8');
      expect(page).toContain('<script type="application/json" id="hotpath-data">');
      expect(page).toContain('check_driver_availability (lib/utility.py)');
      expect(page).not.toMatch(/(src|href)\s*=\s*["']?(https?:)?\/\//);
      expect(page).toContain("default-src 'none'");
    });
  },
);

describe('hotpath diff arguments', () => {
  it('refuses a malformed rule', async () => {
    const r = await runCli(['diff', 'a.pb.gz', 'b.pb.gz', '--fail-on', 'ten percent']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--fail-on 'ten percent' is not a list of rules");
  });
});
