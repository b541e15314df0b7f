// The offline commands (convert, top) and the shared argument handling, run as the real CLI on the
// committed Go fixtures. `go tool pprof -top` goldens (packages/core/test/fixtures/*.top.txt) are
// the reference for the top table.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeFlamebearer, importPprof, topTable } from '@hotpath/core';
import { FIXTURES, runCli, runInProcess } from './run-cli.ts';

const tmp = mkdtempSync(join(tmpdir(), 'hotpath-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const CPU = join(FIXTURES, 'go-cpu.pb.gz');
const HEAP = join(FIXTURES, 'go-heap.pb.gz');

/** (name, self, total) rows of a top table printed with raw units (pprof's or ours). */
function rows(text: string): [string, number, number][] {
  const out: [string, number, number][] = [];
  for (const line of text.split('\n')) {
    const m =
      /^\s*(\d+)(?:ns|B)?\s+[\d.]+%\s+[\d.]+%\s+(\d+)(?:ns|B)?\s+[\d.]+%\s+(.+?)(?: \(inline\))?$/.exec(line);
    if (m) out.push([m[3]!, Number(m[1]), Number(m[2])]);
  }
  return out;
}

describe('hotpath top', () => {
  it('matches go tool pprof -top on the Go CPU fixture', async () => {
    const golden = rows(readFileSync(join(FIXTURES, 'go-cpu.top.txt'), 'utf8'));
    const r = await runCli(['top', CPU, '--raw', '--n', String(golden.length)]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(golden.length).toBeGreaterThan(10);
    expect(rows(r.stdout)).toEqual(golden);
  });

  it('picks a sample type with --type and scales units', async () => {
    const golden = rows(readFileSync(join(FIXTURES, 'go-heap.inuse_space.top.txt'), 'utf8'));
    const raw = await runCli(['top', HEAP, '--type', 'inuse_space', '--raw', '--n', '0']);
    expect(rows(raw.stdout)).toEqual(golden);
    const scaled = await runCli(['top', HEAP, '--type', 'inuse_space', '--n', '2']);
    expect(scaled.stdout).toContain('Type: memory:inuse_space:bytes:space:bytes');
    expect(scaled.stdout).toMatch(/6\.25MB 68\.87% 68\.87%\s+6\.25MB 68\.87%  main\.allocLarge/);
    expect(scaled.stdout.trim().split('\n')).toHaveLength(5);
  });

  it('names the sample types when --type does not match', async () => {
    const r = await runCli(['top', HEAP, '--type', 'nope']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no sample type 'nope'.*inuse_space/);
  });
});

describe('hotpath convert', () => {
  it('writes pprof that reads back to the same top table', async () => {
    const out = join(tmp, 'cpu-copy.pb.gz');
    const r = await runCli(['convert', CPU, '--to', 'pprof', '-o', out]);
    expect(r.code).toBe(0);
    const again = await runCli(['top', out, '--raw', '--n', '0']);
    const original = await runCli(['top', CPU, '--raw', '--n', '0']);
    expect(again.stdout).toBe(original.stdout);
  });

  it('round-trips through folded and speedscope files', async () => {
    const folded = join(tmp, 'cpu.folded');
    const speedscope = join(tmp, 'cpu.speedscope.json');
    const a = await runCli(['convert', CPU, '--to', 'folded', '-o', folded]);
    const b = await runCli(['convert', folded, '--to', 'speedscope', '-o', speedscope]);
    expect([a.code, b.code]).toEqual([0, 0]);
    expect(JSON.parse(readFileSync(speedscope, 'utf8')).$schema).toContain('speedscope');
    const [viaSpeedscope, original] = await Promise.all([
      runCli(['top', speedscope, '--raw', '--n', '0']),
      runCli(['top', CPU, '--raw', '--n', '0']),
    ]);
    // Folded and speedscope carry no unit: compare (name, self, total) only.
    const strip = (t: string) =>
      t
        .split('\n')
        .filter((l) => /^\s*\d/.test(l))
        .map((l) => l.replace(/ns/g, '').replace(/\s+/g, ' ').trim());
    expect(strip(viaSpeedscope.stdout)).toEqual(strip(original.stdout));
    expect(strip(original.stdout).length).toBe(49);
  });

  it('writes /render-style flamebearer JSON that decodes to the same functions', async () => {
    const r = await runCli(['convert', CPU, '--to', 'flamebearer']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as {
      flamebearer: { names: string[]; levels: number[][] };
      metadata: { units: string };
    };
    expect(doc.metadata.units).toBe('samples');
    expect(doc.flamebearer.names[0]).toBe('total');
    const cpu = importPprof(new Uint8Array(gunzipSync(readFileSync(CPU)))).profiles.at(-1)!;
    const fromJson = topTable(decodeFlamebearer(doc.flamebearer, cpu.type)).map((x) => [
      x.name,
      x.self,
      x.total,
    ]);
    expect(fromJson).toEqual(topTable(cpu).map((x) => [x.name, x.self, x.total]));
  });

  it('truncates flamebearer output with --max-nodes', async () => {
    const r = await runCli(['convert', CPU, '--to', 'flamebearer', '--max-nodes', '5']);
    const fb = (JSON.parse(r.stdout) as { flamebearer: { names: string[]; levels: number[][] } }).flamebearer;
    expect(fb.names).toContain('other');
    expect(fb.levels.reduce((n, l) => n + l.length / 4, 0)).toBeLessThan(12);
  });

  it('writes folded stacks whose values sum to the profile total', async () => {
    const r = await runCli(['convert', CPU, '--to', 'folded']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    const sum = lines.reduce((s, l) => s + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
    expect(sum).toBe(1_500_000_000);
    expect(lines.some((l) => l.startsWith('runtime.main;main.main;main.hashLoop;crypto/sha256.Sum256'))).toBe(
      true,
    );
  });

  it('reports a truncated file with its name, code and where it broke', async () => {
    const plain = gunzipSync(readFileSync(CPU));
    const cut = join(tmp, 'cut.pb');
    writeFileSync(cut, plain.subarray(0, Math.floor(plain.length / 2)));
    const r = await runCli(['convert', cut, '--to', 'folded']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`hotpath convert: ${cut}: `);
    expect(r.stderr).toMatch(/\[pprof_[a-z_]+; .*offset \d+/);
  });

  it('reports a missing file and a file that is no profile', async () => {
    const missing = await runCli(['convert', join(tmp, 'missing.pb'), '--to', 'folded']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/missing\.pb: no such file/);
    const text = join(tmp, 'garbage.bin');
    writeFileSync(text, Buffer.from([0xff, 0xfe, 0x00, 0x13, 0x37]));
    const garbage = await runCli(['convert', text, '--to', 'pprof']);
    expect(garbage.code).toBe(1);
    expect(garbage.stderr).toContain('garbage.bin: ');
  });
});

describe('arguments', () => {
  it('every command answers --help with its usage and exit 0', async () => {
    const r = await runCli(['top', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: hotpath top <file> [options]');
    for (const cmd of ['convert', 'top', 'ingest', 'query', 'export']) {
      const h = await runInProcess([cmd, '--help']);
      expect(h.code, cmd).toBe(0);
      expect(h.stdout).toContain(`Usage: hotpath ${cmd}`);
      expect(h.stdout).toContain('-h, --help');
    }
    const all = await runInProcess(['--help']);
    for (const cmd of ['convert', 'top', 'ingest', 'query', 'export'])
      expect(all.stdout).toContain(`  ${cmd} `);
  });

  it('usage errors exit 2 and say what is wrong', async () => {
    const r = await runCli(['convert', CPU, '--to', 'xml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--to must be one of pprof, folded, speedscope, flamebearer, not 'xml'/);
    const cases: [string[], RegExp][] = [
      [['convert', '--to', 'pprof'], /missing <in>/],
      [['top', CPU, '--n', 'ten'], /--n must be a non-negative integer, not 'ten'/],
      [['top', CPU, '--bogus'], /Unknown option '--bogus'/],
      [['top', CPU, 'extra'], /unexpected argument 'extra'/],
      [['query', '--query', 'cpu{}'], /profile type id/],
      [['query', '--query', 'a:b:c:d:e{}', '--format', 'xml'], /--format must be one of flamebearer, folded/],
      [['ingest', CPU, '--app', 'bad name'], /--app 'bad name'/],
      [['ingest', CPU, '--app', 'x', '--tags', 'novalue'], /--tags: 'novalue'/],
      [['ingest', CPU], /--app is required/],
      [['ingest', CPU, '--app', 'x', '--server', 'localhost:4040'], /--server must be an http\(s\) URL/],
      [['export', '--query', 'a:b:c:d:e{}', '--from', 'yesterday'], /'yesterday' is not a time/],
    ];
    for (const [args, message] of cases) {
      const res = await runInProcess(args);
      expect(res.code, args.join(' ')).toBe(2);
      expect(res.stderr, args.join(' ')).toMatch(message);
    }
  });
});
