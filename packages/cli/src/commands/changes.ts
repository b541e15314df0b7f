// `hotpath changes`: asks the server what changed (hotpath.v1.ChangesService/WhatChanged) for a
// service over a range against a baseline, prints the ranked findings with links to the UI's
// comparison and diff views, and with --fail-on exits 1 when something changed (scripts, alerts).
import {
  choice,
  integer,
  requireString,
  runCommand,
  UsageError,
  CliError,
  writeOutput,
  type CommandSpec,
  type ParsedArgs,
} from '../args.ts';
import type { Command } from '../command.ts';
import { viewLink } from './diff.ts';
import { CPU, httpRequest, parseTime, serverUrl } from './query.ts';

const FORMATS = ['text', 'markdown', 'json'] as const;
const FAIL_ON = ['changed', 'grew', 'any'] as const;
export const WHAT_CHANGED_PATH = '/hotpath.v1.ChangesService/WhatChanged';

const spec: CommandSpec = {
  name: 'changes',
  summary: 'What changed: functions and label values against a baseline, outliers and slow periods.',
  positionals: [],
  options: {
    service: { type: 'string', value: 'NAME', help: 'service_name to look at' },
    query: { type: 'string', value: '{SELECTOR}', help: 'extra label matchers, e.g. {env="prod"}' },
    type: { type: 'string', value: 'TYPE', help: 'profile type id', default: CPU },
    from: { type: 'string', value: 'TIME', help: 'start (now-1h, unix s or ms)' },
    until: { type: 'string', value: 'TIME', help: 'end', default: 'now' },
    baseline: {
      type: 'string',
      value: 'WHEN',
      help: 'previous (the period of the same length before), 1h/1d/1w (the same range that much earlier), FROM..UNTIL, or none',
      default: 'previous',
    },
    labels: {
      type: 'string',
      value: 'A,B',
      help: "labels to explain with (default: the service's own, up to 6)",
    },
    format: { type: 'string', value: 'FORMAT', help: `output: ${FORMATS.join(', ')}`, default: 'text' },
    n: { type: 'string', value: 'N', help: 'findings to list, 0 for all', default: '10' },
    'fail-on': {
      type: 'string',
      value: 'WHAT',
      help: 'exit 1 when: changed (a function grew or shrank against the baseline), grew (grew), any (any finding)',
    },
    'min-z': { type: 'string', value: 'Z', help: 'standard errors a change needs (server default 5)' },
    'min-share': {
      type: 'string',
      value: 'PCT',
      help: 'share points a change needs, e.g. 2% (server default)',
    },
    server: { type: 'string', value: 'URL', help: 'server', default: 'http://127.0.0.1:4040' },
    tenant: { type: 'string', value: 'ID', help: 'tenant (sent as X-Scope-OrgID)' },
    out: { type: 'string', value: 'FILE', help: 'write to a file instead of stdout' },
  },
  details: `Compares the selection over --from..--until with the baseline: the functions whose self and
total share of the cost grew or shrank (with the samples behind them), and the label values
(region, vehicle, service_git_ref...) that carry the change. Within the range alone it also names
the label value that stands out against its peers and, from the shape of its timeline, its slow
periods against its fast ones. A change is reported only past the thresholds (z, share points,
samples) printed with the answer. Each finding links to the UI's comparison and diff views on
exactly the ranges and selectors behind it.

Examples:
  hotpath changes --service ride-sharing-app --from now-10m
  hotpath changes --service ride-sharing-app --from now-1h --baseline 1d --fail-on grew
  hotpath changes --service api --from now-1h --labels region,endpoint --format markdown`,
};

interface Side {
  labelSelector: string;
  start: string;
  end: string;
}
interface Finding {
  kind: string;
  function: string;
  label?: string;
  value?: string;
  score: number;
  text: string;
  left: Side;
  right: Side;
}
interface FunctionChange {
  name: string;
  direction: string;
  baseTotalShare?: number;
  headTotalShare?: number;
  totalDelta?: number;
  selfDelta?: number;
  baseSamples?: number;
  headSamples?: number;
  z?: number | string;
}
interface Explanation {
  label: string;
  function: string;
  values: { value: string; carried?: number; traffic?: number }[];
}
/** The protojson answer (defaults omitted, int64 as strings). */
export interface WhatChangedJson {
  head: { start: string; end: string };
  baseline?: { start: string; end: string };
  minZ: number;
  minShareDelta: number;
  minSamples: number;
  unit?: string;
  grew?: FunctionChange[];
  shrank?: FunctionChange[];
  explanations?: Explanation[];
  findings?: Finding[];
  labels?: string[];
  labelsSkipped?: number;
  valuesSkipped?: number;
  baselineEmpty?: boolean;
  baselineCoverage?: number;
  headCoverage?: number;
  coverageWarning?: string;
}

function quote(v: string): string {
  return JSON.stringify(v);
}

/** The request body of the command's options; `nowMs` makes relative times testable. */
export function requestOf(args: ParsedArgs, nowMs = Date.now()): Record<string, unknown> {
  const service = args.values.service as string | undefined;
  const extra = ((args.values.query as string | undefined) ?? '').trim();
  if (service === undefined && extra === '') throw new UsageError('--service (or --query) is required');
  if (extra !== '' && !(extra.startsWith('{') && extra.endsWith('}')))
    throw new UsageError(`--query '${extra}' is not a {selector}`);
  const inner = extra.slice(1, -1).trim();
  const selector = `{${[service !== undefined ? `service_name=${quote(service)}` : '', inner].filter((x) => x !== '').join(',')}}`;
  const start = parseTime(requireString(args, 'from'), nowMs);
  const end = parseTime(requireString(args, 'until'), nowMs);
  const body: Record<string, unknown> = {
    profileTypeId: requireString(args, 'type'),
    labelSelector: selector,
    start: String(start),
    end: String(end),
  };
  const b = requireString(args, 'baseline').trim();
  const range = /^(.+)\.\.(.+)$/.exec(b);
  if (range !== null) {
    body.baselineStart = String(parseTime(range[1]!, nowMs));
    body.baselineEnd = String(parseTime(range[2]!, nowMs));
  } else if (b !== 'none') body.baseline = b;
  const labels = args.values.labels as string | undefined;
  if (labels !== undefined)
    body.labels = labels
      .split(',')
      .map((l) => l.trim())
      .filter((l) => l !== '');
  const minZ = args.values['min-z'] as string | undefined;
  if (minZ !== undefined) {
    if (!(Number(minZ) > 0)) throw new UsageError(`--min-z must be a number > 0, not '${minZ}'`);
    body.minZ = Number(minZ);
  }
  const minShare = args.values['min-share'] as string | undefined;
  if (minShare !== undefined) {
    const m = /^(\d+(?:\.\d+)?)(%?)$/.exec(minShare.trim());
    if (m === null) throw new UsageError(`--min-share must be like 2% or 0.02, not '${minShare}'`);
    body.minShareDelta = m[2] === '%' ? Number(m[1]) / 100 : Number(m[1]);
  }
  return body;
}

const pct = (x: number | undefined) => `${((x ?? 0) * 100).toFixed(1)}%`;
const pts = (x: number | undefined) => `${(x ?? 0) >= 0 ? '+' : ''}${((x ?? 0) * 100).toFixed(1)} pts`;
const zOf = (z: number | string | undefined) => (typeof z === 'number' ? z.toFixed(1) : String(z ?? 0));
const time = (ms: string) => new Date(Number(ms)).toISOString().replace('.000Z', 'Z');

/** Links to the comparison and diff views of a finding's two sides. */
export function findingLinks(
  server: string,
  typeId: string,
  f: Finding,
): { comparison: string; diff: string } {
  const side = (s: Side) => ({ selector: s.labelSelector, fromMs: Number(s.start), untilMs: Number(s.end) });
  return {
    comparison: viewLink(server, 'comparison', typeId, side(f.left), side(f.right)),
    diff: viewLink(server, 'comparison-diff', typeId, side(f.left), side(f.right)),
  };
}

export function formatAnswer(
  res: WhatChangedJson,
  opts: { server: string; typeId: string; n: number; markdown: boolean },
): string {
  const md = opts.markdown;
  const out: string[] = [];
  const findings = res.findings ?? [];
  const shown = opts.n > 0 ? findings.slice(0, opts.n) : findings;
  out.push(
    `${md ? '### ' : ''}What changed in ${time(res.head.start)} .. ${time(res.head.end)}` +
      (res.baseline !== undefined
        ? ` against ${time(res.baseline.start)} .. ${time(res.baseline.end)}`
        : ' (no baseline)'),
  );
  out.push(
    `Thresholds: z >= ${res.minZ}, share change >= ${(res.minShareDelta * 100).toFixed(1)} pts, samples >= ${res.minSamples}.` +
      ` Labels: ${(res.labels ?? []).join(', ') || 'none'}` +
      ((res.labelsSkipped ?? 0) > 0 ? ` (${res.labelsSkipped} more not examined)` : '') +
      ((res.valuesSkipped ?? 0) > 0 ? `; ${res.valuesSkipped} small label values not examined` : ''),
  );
  if (res.baselineEmpty) out.push('The baseline holds no data: nothing was compared with it.');
  if ((res.coverageWarning ?? '') !== '') out.push(`Coverage: ${res.coverageWarning}.`);
  out.push('');
  if (shown.length === 0) out.push('Nothing changed past the thresholds.');
  shown.forEach((f, i) => {
    const links = findingLinks(opts.server, opts.typeId, f);
    if (md) {
      out.push(`${i + 1}. **${f.kind}** ${f.text} ([compare](${links.comparison}), [diff](${links.diff}))`);
    } else {
      out.push(`${String(i + 1).padStart(2)}. [${f.kind}] ${f.text}`);
      out.push(`    diff: ${links.diff}`);
    }
  });
  const fns = [...(res.grew ?? []), ...(res.shrank ?? [])];
  if (fns.length > 0) {
    out.push('', `${md ? '#### ' : ''}Functions against the baseline`);
    if (md)
      out.push(
        '',
        '| function | | total share | change | self change | samples | z |',
        '|---|---|---|---|---|---|---|',
      );
    for (const f of fns) {
      const cells = [
        f.name,
        f.direction,
        `${pct(f.baseTotalShare)} -> ${pct(f.headTotalShare)}`,
        pts(f.totalDelta),
        pts(f.selfDelta),
        `${Math.round(f.baseSamples ?? 0)} -> ${Math.round(f.headSamples ?? 0)}`,
        zOf(f.z),
      ];
      out.push(
        md
          ? `| ${cells.join(' | ')} |`
          : `  ${cells[1]!.padEnd(6)} ${cells[0]}  ${cells.slice(2).join('  ')}`,
      );
    }
  }
  const expl = res.explanations ?? [];
  if (expl.length > 0) {
    out.push('', `${md ? '#### ' : ''}Label values carrying ${expl[0]!.function}'s change`);
    for (const e of expl) {
      const vs = e.values
        .slice(0, 3)
        .map((v) => `${v.value} ${pct(v.carried)} (of the cost: ${pct(v.traffic)})`)
        .join(', ');
      out.push(`${md ? '- ' : '  '}${e.label}: ${vs}`);
    }
  }
  return out.join('\n') + '\n';
}

/** Whether --fail-on trips on this answer. */
export function failsOn(res: WhatChangedJson, what: (typeof FAIL_ON)[number]): boolean {
  if (what === 'grew') return (res.grew ?? []).length > 0;
  if (what === 'changed') return (res.grew ?? []).length + (res.shrank ?? []).length > 0;
  return (res.findings ?? []).length > 0;
}

async function run(args: ParsedArgs): Promise<number> {
  const format = choice(args, 'format', FORMATS);
  const failOn = args.values['fail-on'] !== undefined ? choice(args, 'fail-on', FAIL_ON) : undefined;
  const n = integer(args, 'n') ?? 10;
  const server = serverUrl(args);
  const body = requestOf(args);
  const res = await httpRequest(args, `${server}${WHAT_CHANGED_PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) {
    let message = text;
    try {
      const j = JSON.parse(text) as { error?: string; message?: string };
      message = `${j.error ?? res.status}: ${j.message ?? text}`;
    } catch {
      // not JSON: the text as it came
    }
    throw new CliError(`${server} answered ${res.status}: ${message}`);
  }
  const answer = JSON.parse(text) as WhatChangedJson;
  const typeId = body.profileTypeId as string;
  await writeOutput(
    format === 'json'
      ? JSON.stringify(
          {
            ...answer,
            findings: (answer.findings ?? []).map((f) => ({ ...f, links: findingLinks(server, typeId, f) })),
          },
          null,
          2,
        ) + '\n'
      : formatAnswer(answer, { server, typeId, n, markdown: format === 'markdown' }),
    args.values.out as string | undefined,
  );
  return failOn !== undefined && failsOn(answer, failOn) ? 1 : 0;
}

export const changes: Command = {
  name: 'changes',
  summary: 'what changed: functions and label values against a baseline, outliers, slow periods',
  run: (argv) => runCommand(spec, argv, run),
};
