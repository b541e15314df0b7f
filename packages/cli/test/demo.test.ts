// `hotpath demo` end to end: it starts the real server, the three rideshare apps and the load
// generator, the apps' profiles arrive, and Ctrl-C (SIGINT) leaves none of its processes running.
import { afterEach, describe, expect, it } from 'vitest';
import { demo, findPython } from '../src/commands/demo.ts';
import {
  PYTHON,
  demoSkipReason,
  descendants,
  isAlive,
  regionsSeen,
  startDemo,
  until,
  type RunningDemo,
} from './demo-run.ts';

describe('hotpath demo: refusing to start', () => {
  it('names the Debian packages when no interpreter can import the framework', () => {
    const found = findPython('django', ['/bin/false']);
    expect('problem' in found && found.problem).toMatch(
      /FRAMEWORK=django needs the Python modules django, gunicorn/,
    );
    expect('problem' in found && found.problem).toContain('apt-get install python3-django gunicorn');
  });

  it.skipIf(PYTHON === undefined)('picks an interpreter that can run the stdlib variant', () => {
    expect(findPython('stdlib', ['/nonexistent/python3', PYTHON!])).toEqual({ python: PYTHON });
  });

  it('rejects an unknown framework with exit code 2', async () => {
    expect(await demo.run(['--framework', 'cobol'])).toBe(2);
  });
});

describe.skipIf(demoSkipReason !== undefined)(
  `hotpath demo: a real run${demoSkipReason ? ` (skipped: ${demoSkipReason})` : ''}`,
  () => {
    let running: RunningDemo | undefined;

    afterEach(() => running?.kill()); // whatever happened, nothing of this test survives it

    it('serves three profiled regions and stops every process it started on SIGINT', async () => {
      running = await startDemo(['--rate', '4'], {
        RIDESHARE_WORK_SCALE: '0.05',
        HOTPATH_UPLOAD_INTERVAL: '1',
        FRAMEWORK: 'stdlib',
      });
      expect(running.output()).toContain('What to look at');

      const ui = running.ui;
      const regions = await until(
        'profiles from the three regions',
        async () => {
          const names = await regionsSeen(ui);
          return names.length === 3 ? names : undefined;
        },
        30_000,
      );
      expect(regions).toEqual(['ap-south', 'eu-north', 'us-east']);

      const started = descendants(running.child.pid!);
      // The server, three apps and the load generator at least.
      expect(started.length).toBeGreaterThanOrEqual(5);

      expect(await running.interrupt()).toBe(0);
      expect(running.output()).toContain('hotpath demo: stopped');
      expect(started.filter(isAlive)).toEqual([]);
    }, 120_000);
  },
);
