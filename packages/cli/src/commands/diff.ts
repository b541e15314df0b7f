// `hotpath diff BASE HEAD`: the functions whose self and total share changed most between two
// sides (profile files, repeated runs, or server queries), a regression gate (--fail-on) and a
// self-contained diff flame graph page (--html).
import { readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  byFunction,
  checkGate,
  compareRuns,
  mergeProfiles,
  parseGateRules,
  toFlamebearerDiff,
  type GateRule,
  type Profile,
  type RunComparison,
  type ShareChange,
  type Violation,
} from '@hotpath/core';
import {
  choice,
  integer,
  requireString,
  runCommand,
  UsageError,
  writeOutput,
  type CommandSpec,
  type ParsedArgs,
} from '../args.ts';
import type { Command } from '../command.ts';
import { diffPage } from '../diff-page.ts';
import { pickProfile, readProfiles } from './convert.ts';
import { fetchMergedProfile } from './export.ts';
import { CPU, parseTime, serverUrl } from './query.ts';

const FORMATS = ['table', 'markdown', 'json'] as const;

const spec: CommandSpec = {
  name: 'diff',
  summary: 'Compare two sides by function share; with --fail-on, exit 1 when a function regressed.',
  positionals: ['<BASE>', '<HEAD>'],
  options: {
    format: { type: 'string', value: 'FORMAT', help: `output: ${FORMATS.join(', ')}`, default: 'table' },
    n: { type: 'string', value: 'N', help: 'functions to list, 0 for all', default: '15' },
    'fail-on': {
      type: 'string',
      value: 'RULES',
      help: "largest allowed growth of a function's total share: 10%, find_nearest_vehicle=5% (repeatable or comma-separated)",
    },
    'min-samples': {
      type: 'string',
      value: 'N',
      help: 'never fail a function with fewer sampling ticks per run than this',
      default: '20',
    },
    'min-z': {
      type: 'string',
      value: 'Z',
      help: 'never fail a change smaller than this many standard errors of run-to-run noise',
      default: '3',
    },
    scope: {
      type: 'string',
      value: 'REGEX',
      help: "functions the rules without a name apply to, e.g. '\\(src/' for your own code (default all)",
    },
    html: { type: 'string', value: 'FILE', help: 'also write a self-contained diff flame graph page' },
    type: {
      type: 'string',
      value: 'TYPE',
      help: `sample type of files (default the last) or profile type id of queries (default ${CPU})`,
    },
    server: {
      type: 'string',
      value: 'URL',
      help: 'server for query sides',
      default: 'http://127.0.0.1:4040',
    },
    service: { type: 'string', value: 'NAME', help: 'service_name added to query sides' },
    from: {
      type: 'string',
      value: 'TIME',
      help: 'start of query sides (now-1h, unix s or ms)',
      default: 'now-7d',
    },
    until: { type: 'string', value: 'TIME', help: 'end of query sides', default: 'now' },
    tenant: { type: 'string', value: 'ID', help: 'tenant (sent as X-Scope-OrgID)' },
  },
  details: `Each side is one of:
  FILE[,FILE...]   profile files (any format 'hotpath convert' reads); several = repeated runs
  DIR              every file in the directory, one run each
  git:REF          the server's profiles with service_git_ref="REF" (plus --service)
  {SELECTOR}       the server's profiles matching a label selector, in --from..--until

Shares: a function's self (leaf) and total (on the stack) value over the run's total, so a faster
or slower machine changes nothing. Lines of one Python function count as one function. A function
fails a rule when its total share grew past the limit, by at least --min-z standard errors, and it
has at least --min-samples ticks. The noise is the spread of the repeated runs of each side, never
less than the sampling noise of one run: give several BASE runs (e.g. the last main builds) for a
gate a team can trust.

Examples:
  hotpath diff base.pb.gz head.pb.gz --fail-on 10%
  hotpath diff base-runs/ head.pb.gz --fail-on '10%,find_nearest_vehicle=5%' --format markdown
  hotpath diff git:$BASE_SHA git:$HEAD_SHA --service myapp-tests --html diff.html`,
};

/** Every `--fail-on X` joined into one comma-separated value (node's parseArgs keeps only the last). */
export function joinRepeated(argv: readonly string[], name: string): string[] {
  const flag = `--${name}`;
  const values: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    if (a === flag && i + 1 < argv.length) values.push(argv[++i]!);
    else if (a.startsWith(`${flag}=`)) values.push(a.slice(flag.length + 1));
    else rest.push(a);
  }
  return values.length > 0 ? [...rest, flag, values.join(',')] : rest;
}

type Side =
  | { kind: 'files'; label: string; files: string[] }
  | { kind: 'query'; label: string; selector: string; gitRef?: string };

function quoteLabel(v: string): string {
  return JSON.stringify(v);
}

async function parseSide(text: string, service: string | undefined): Promise<Side> {
  const withService = (inner: string) =>
    service === undefined ? `{${inner}}` : `{service_name=${quoteLabel(service)}${inner ? `,${inner}` : ''}}`;
  if (text.startsWith('git:')) {
    const ref = text.slice(4);
    if (ref === '') throw new UsageError(`'${text}' names no git ref`);
    return {
      kind: 'query',
      label: text,
      selector: withService(`service_git_ref=${quoteLabel(ref)}`),
      gitRef: ref,
    };
  }
  if (text.startsWith('{')) {
    if (!text.endsWith('}')) throw new UsageError(`selector '${text}' is not closed with '}'`);
    const inner = text.slice(1, -1).trim();
    const hasService = /(^|,)\s*service_name\s*=/.test(inner);
    return { kind: 'query', label: text, selector: hasService ? text : withService(inner) };
  }
  const info = await stat(text).catch(() => undefined);
  if (info?.isDirectory()) {
    const names = (await readdir(text)).filter((n) => !n.startsWith('.')).sort();
    if (names.length === 0) throw new UsageError(`directory '${text}' holds no profile files`);
    return { kind: 'files', label: text, files: names.map((n) => join(text, n)) };
  }
  return { kind: 'files', label: text, files: text.split(',').filter((f) => f !== '') };
}

async function loadSide(side: Side, args: ParsedArgs): Promise<Profile[]> {
  const type = args.values.type as string | undefined;
  if (side.kind === 'files') {
    const out: Profile[] = [];
    for (const file of side.files) out.push(pickProfile((await readProfiles(file)).profiles, type));
    return out;
  }
  const typeId = type !== undefined && type.includes(':') ? type : CPU;
  const profiles = (
    await fetchMergedProfile(
      args,
      serverUrl(args),
      typeId,
      side.selector,
      parseTime(requireString(args, 'from')),
      parseTime(requireString(args, 'until')),
    )
  ).profiles;
  const profile = profiles.find((p) => p.type.id === typeId) ?? profiles[0];
  if (profile === undefined || profile.samples.length === 0) {
    throw new UsageError(`the server has no ${typeId} samples for ${side.selector} in the time range`);
  }
  return [profile];
}

/** The UI's diff view on both query sides (its URL state: see packages/ui/src/state.ts). */
export function diffViewLink(
  server: string,
  typeId: string,
  base: string,
  head: string,
  fromMs: number,
  untilMs: number,
): string {
  return viewLink(
    server,
    'comparison-diff',
    typeId,
    { selector: base, fromMs, untilMs },
    { selector: head, fromMs, untilMs },
  );
}

export interface ViewSide {
  /** A full label selector, service_name included. */
  readonly selector: string;
  readonly fromMs: number;
  readonly untilMs: number;
}

/** The UI's comparison or diff view on two sides, each with its own selector and range. */
export function viewLink(
  server: string,
  view: 'comparison' | 'comparison-diff',
  typeId: string,
  left: ViewSide,
  right: ViewSide,
): string {
  const service = (sel: string) => /service_name\s*=\s*"((?:[^"\\]|\\.)*)"/.exec(sel)?.[1] ?? '';
  const extra = (sel: string) => {
    const inner = sel
      .slice(1, -1)
      .split(/,(?=\s*[A-Za-z_.][A-Za-z0-9_.]*\s*(?:=~|!~|!=|=)\s*")/)
      .map((m) => m.trim())
      .filter((m) => m !== '' && !/^service_name\s*=/.test(m));
    return inner.length > 0 ? `{${inner.join(',')}}` : '';
  };
  const q = new URLSearchParams({
    service: service(left.selector) || service(right.selector),
    profileType: typeId,
    query: extra(left.selector),
    from: String(left.fromMs),
    until: String(left.untilMs),
    rightQuery: extra(right.selector),
    rightFrom: String(right.fromMs),
    rightUntil: String(right.untilMs),
  });
  return `${server}/${view}?${q}`;
}

/** The comparison view shares the diff view's URL state: only the path differs. */
function comparisonLink(diffLink: string): string {
  return diffLink.replace('/comparison-diff?', '/comparison?');
}

const pct = (share: number) => `${(share * 100).toFixed(1)}%`;
function signed(v: number, digits = 1): string {
  if (v === Infinity) return 'new';
  const s = (v * 100).toFixed(digits);
  return v > 0 ? `+${s}%` : `${s}%`;
}
const zText = (z: number) => (Math.abs(z) === Infinity ? (z > 0 ? 'inf' : '-inf') : z.toFixed(1));

export interface DiffReport {
  readonly base: { label: string; runs: number };
  readonly head: { label: string; runs: number };
  readonly cmp: RunComparison;
  readonly rules: GateRule[];
  readonly violations: Violation[];
  /** The UI's diff view of the two query sides (its comparison view: the same URL at /comparison). */
  readonly link?: string;
}

function ruleText(r: GateRule): string {
  return `${r.fn !== undefined ? `${r.fn}=` : ''}${+(r.maxGrowth * 100).toFixed(4)}%`;
}

export function violationText(v: Violation): string {
  const c = v.change;
  return `${c.name}: total share ${signed(c.totalGrowth)} (${pct(c.base.totalShare)} -> ${pct(c.head.totalShare)}, z=${zText(c.z)}), past ${ruleText(v.rule)}`;
}

function rowsOf(report: DiffReport, n: number): ShareChange[] {
  const failing = new Set(report.violations.map((v) => v.change.name));
  const shown = n > 0 ? report.cmp.functions.slice(0, n) : report.cmp.functions;
  // A failing function is always listed, even when smaller changes fill the first n rows.
  return [...shown, ...report.cmp.functions.filter((f) => failing.has(f.name) && !shown.includes(f))];
}

export function formatTable(report: DiffReport, n: number): string {
  const failing = new Set(report.violations.map((v) => v.change.name));
  const header = ['self base', 'self head', 'total base', 'total head', 'total growth', 'z', ''];
  const cells = rowsOf(report, n).map((f) => [
    pct(f.base.selfShare),
    pct(f.head.selfShare),
    pct(f.base.totalShare),
    pct(f.head.totalShare),
    signed(f.totalGrowth),
    zText(f.z),
    `${failing.has(f.name) ? 'FAIL ' : ''}${f.name}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: readonly string[]) =>
    c
      .slice(0, 6)
      .map((v, i) => v.padStart(widths[i]!))
      .join('  ') + `  ${c[6]}`;
  const lines = [
    `base: ${report.base.label} (${report.base.runs} run${report.base.runs === 1 ? '' : 's'})`,
    `head: ${report.head.label} (${report.head.runs} run${report.head.runs === 1 ? '' : 's'})`,
    line(header).trimEnd(),
    ...cells.map(line),
  ];
  if (report.rules.length > 0) {
    lines.push(
      report.violations.length === 0
        ? `passed: no function grew past ${report.rules.map(ruleText).join(', ')}`
        : `FAILED: ${report.violations.length} regression${report.violations.length === 1 ? '' : 's'}`,
    );
    for (const v of report.violations) lines.push(`  ${violationText(v)}`);
  }
  if (report.link) {
    lines.push(`diff view: ${report.link}`, `side by side: ${comparisonLink(report.link)}`);
  }
  return lines.join('\n') + '\n';
}

function mdCode(s: string): string {
  return '`' + s.replace(/`/g, "'").replace(/\|/g, '\\|') + '`';
}

export function formatMarkdown(report: DiffReport, n: number): string {
  const failing = new Set(report.violations.map((v) => v.change.name));
  const v = report.violations.length;
  const title =
    report.rules.length === 0
      ? '### Hotpath profile diff'
      : v === 0
        ? `### Hotpath: no regression (rules ${report.rules.map(ruleText).join(', ')})`
        : `### Hotpath: ${v} regression${v === 1 ? '' : 's'}`;
  const lines = [
    title,
    '',
    `Base ${mdCode(report.base.label)} (${report.base.runs} run${report.base.runs === 1 ? '' : 's'}), head ${mdCode(report.head.label)} (${report.head.runs} run${report.head.runs === 1 ? '' : 's'}).`,
    '',
  ];
  for (const x of report.violations)
    lines.push(`- **${x.change.name}**: ${violationText(x).slice(x.change.name.length + 2)}`);
  if (v > 0) lines.push('');
  lines.push(
    '| | function | self % base → head | total % base → head | total growth | z |',
    '|---|---|---:|---:|---:|---:|',
  );
  for (const f of rowsOf(report, n)) {
    lines.push(
      `| ${failing.has(f.name) ? '**FAIL**' : ''} | ${mdCode(f.name)} | ${pct(f.base.selfShare)} → ${pct(f.head.selfShare)} | ${pct(f.base.totalShare)} → ${pct(f.head.totalShare)} | ${signed(f.totalGrowth)} | ${zText(f.z)} |`,
    );
  }
  if (report.link) {
    lines.push(
      '',
      `[Open the diff flame graph](${report.link}) · [side by side](${comparisonLink(report.link)})`,
    );
  }
  return lines.join('\n') + '\n';
}

export function formatJson(report: DiffReport, n: number): string {
  const num = (x: number) => (Number.isFinite(x) ? x : x > 0 ? 'Infinity' : '-Infinity');
  const fn = (f: ShareChange) => ({
    function: f.name,
    base: f.base,
    head: f.head,
    selfDelta: f.selfDelta,
    totalDelta: f.totalDelta,
    selfGrowth: num(f.selfGrowth),
    totalGrowth: num(f.totalGrowth),
    z: num(f.z),
  });
  return (
    JSON.stringify(
      {
        base: { ...report.base, total: report.cmp.baseTotal },
        head: { ...report.head, total: report.cmp.headTotal },
        unit: report.cmp.unit,
        rules: report.rules.map((r) => ({
          ...(r.fn !== undefined && { function: r.fn }),
          maxGrowth: r.maxGrowth,
        })),
        passed: report.violations.length === 0,
        violations: report.violations.map((v) => ({ ...fn(v.change), rule: ruleText(v.rule) })),
        functions: rowsOf(report, n).map(fn),
        ...(report.link !== undefined && { link: report.link, comparisonLink: comparisonLink(report.link) }),
      },
      null,
      2,
    ) + '\n'
  );
}

export const diff: Command = {
  name: 'diff',
  summary: 'compare two profiles or runs by function share; a CI regression gate',
  run: (argv) =>
    runCommand(spec, joinRepeated(argv, 'fail-on'), async (args) => {
      const format = choice(args, 'format', FORMATS);
      const n = integer(args, 'n') ?? 15;
      const minSamples = Number(requireString(args, 'min-samples'));
      const minZ = Number(requireString(args, 'min-z'));
      if (!(minSamples >= 0)) throw new UsageError('--min-samples must be a number >= 0');
      if (!(minZ >= 0)) throw new UsageError('--min-z must be a number >= 0');
      const failOn = args.values['fail-on'] as string | undefined;
      const rules = failOn === undefined ? [] : parseGateRules(failOn);
      if (rules === null) {
        throw new UsageError(
          `--fail-on '${failOn}' is not a list of rules like 10% or find_nearest_vehicle=5%`,
        );
      }
      const scopeText = args.values.scope as string | undefined;
      let scope: RegExp | undefined;
      try {
        scope = scopeText === undefined ? undefined : new RegExp(scopeText);
      } catch (e) {
        throw new UsageError(`--scope '${scopeText}' is not a regular expression: ${(e as Error).message}`);
      }
      const service = args.values.service as string | undefined;
      const [baseSide, headSide] = [
        await parseSide(args.positionals[0]!, service),
        await parseSide(args.positionals[1]!, service),
      ];
      const base = await loadSide(baseSide, args);
      const head = await loadSide(headSide, args);
      const cmp = compareRuns(base, head);
      const violations = checkGate(cmp, rules, {
        minSamples,
        minZ,
        ...(scope !== undefined && { scope: (name: string) => scope.test(name) }),
      });
      let link: string | undefined;
      if (baseSide.kind === 'query' && headSide.kind === 'query') {
        const typeId = base[0]!.type.id;
        link = diffViewLink(
          serverUrl(args),
          typeId,
          baseSide.selector,
          headSide.selector,
          parseTime(requireString(args, 'from')),
          parseTime(requireString(args, 'until')),
        );
      }
      const report: DiffReport = {
        base: { label: baseSide.label, runs: base.length },
        head: { label: headSide.label, runs: head.length },
        cmp,
        rules,
        violations,
        ...(link !== undefined && { link }),
      };
      const html = args.values.html as string | undefined;
      if (html !== undefined) {
        const flame = toFlamebearerDiff(byFunction(mergeProfiles(base)), byFunction(mergeProfiles(head)), {
          maxNodes: 4096,
        });
        await writeFile(
          html,
          diffPage({
            title: `${baseSide.label} → ${headSide.label}`,
            unit: cmp.unit,
            flame,
            summary: formatTable(report, n),
          }),
        );
      }
      const out =
        format === 'json'
          ? formatJson(report, n)
          : format === 'markdown'
            ? formatMarkdown(report, n)
            : formatTable(report, n);
      await writeOutput(out, undefined);
      for (const v of violations) process.stderr.write(`hotpath diff: regression: ${violationText(v)}\n`);
      return violations.length > 0 ? 1 : 0;
    }),
};
