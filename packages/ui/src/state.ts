// All UI state lives in the URL (shareable links; back/forward work). Pure parse/format of that state.

export type ViewName = 'single' | 'explore' | 'comparison' | 'diff' | 'adhoc' | 'spans' | 'rules';
export type Display = 'both' | 'flame' | 'table' | 'sandwich';

export interface UiState {
  readonly view: ViewName;
  /** service_name of the application. */
  readonly service: string;
  /** Profile type id, e.g. process_cpu:cpu:nanoseconds:cpu:nanoseconds. */
  readonly profileType: string;
  /** Extra label matchers, e.g. `{region="eu-north"}` ('' = none). Left side (baseline) in comparison/diff. */
  readonly query: string;
  /** Time range: `now`, `now-1h`, or ms since epoch as digits. Left side in comparison/diff. */
  readonly from: string;
  readonly until: string;
  /** Right side (comparison) of comparison/diff. */
  readonly rightQuery: string;
  readonly rightFrom: string;
  readonly rightUntil: string;
  /**
   * The range the timeline shows ('' = the selection itself; in comparison and diff, the span of both
   * sides). A drag on the timeline selects within it and leaves it in view; zooming clears it.
   */
  readonly timelineFrom: string;
  readonly timelineUntil: string;
  /** Tag explorer: the label grouped by and the selected value. */
  readonly groupBy: string;
  readonly groupValue: string;
  readonly display: Display;
  readonly search: string;
  /** Focused node as a path of names joined by ';' ('' = root). */
  readonly focus: string;
  /** Function shown in the sandwich view. */
  readonly sandwich: string;
  /** true: flame (root at the bottom); false: icicle. */
  readonly inverted: boolean;
  readonly collapse: boolean;
  readonly diffMode: 'relative' | 'absolute';
  readonly theme: 'light' | 'dark';
  readonly maxNodes: number;
  /** A span id (16 hex) or trace id (32 hex) whose own flame graph is shown ('' = none). */
  readonly spanSelector: string;
  /** Id of a stored ad hoc upload shown by the Upload view ('' = none): the link to share it. */
  readonly adhoc: string;
}

export const DEFAULT_STATE: UiState = {
  view: 'single',
  service: '',
  profileType: '',
  query: '',
  from: 'now-1h',
  until: 'now',
  rightQuery: '',
  rightFrom: 'now-1h',
  rightUntil: 'now',
  timelineFrom: '',
  timelineUntil: '',
  groupBy: '',
  groupValue: '',
  display: 'both',
  search: '',
  focus: '',
  sandwich: '',
  inverted: false,
  collapse: false,
  diffMode: 'relative',
  theme: 'light',
  maxNodes: 8192,
  spanSelector: '',
  adhoc: '',
};

/** Pyroscope's routes: / single, /explore tag explorer, /comparison, /comparison-diff, /adhoc uploads. */
export const VIEW_PATHS: Readonly<Record<ViewName, string>> = {
  single: '/',
  explore: '/explore',
  comparison: '/comparison',
  diff: '/comparison-diff',
  adhoc: '/adhoc',
  spans: '/spans',
  rules: '/rules',
};

const DISPLAYS: readonly Display[] = ['both', 'flame', 'table', 'sandwich'];

export function parseState(pathname: string, search: string): UiState {
  const q = new URLSearchParams(search);
  const path = pathname.replace(/\/+$/, '') || '/';
  const view = (Object.keys(VIEW_PATHS) as ViewName[]).find((v) => VIEW_PATHS[v] === path) ?? 'single';
  const str = (k: string, d: string): string => q.get(k) ?? d;
  const display = q.get('display') as Display | null;
  const maxNodes = Number(q.get('maxNodes'));
  return {
    view,
    service: str('service', DEFAULT_STATE.service),
    profileType: str('profileType', DEFAULT_STATE.profileType),
    query: str('query', DEFAULT_STATE.query),
    from: str('from', DEFAULT_STATE.from),
    until: str('until', DEFAULT_STATE.until),
    rightQuery: str('rightQuery', DEFAULT_STATE.rightQuery),
    rightFrom: str('rightFrom', DEFAULT_STATE.rightFrom),
    rightUntil: str('rightUntil', DEFAULT_STATE.rightUntil),
    timelineFrom: str('timelineFrom', ''),
    timelineUntil: str('timelineUntil', ''),
    groupBy: str('groupBy', ''),
    groupValue: str('groupValue', ''),
    display: display && DISPLAYS.includes(display) ? display : DEFAULT_STATE.display,
    search: str('search', ''),
    focus: str('focus', ''),
    sandwich: str('sandwich', ''),
    inverted: q.get('inverted') === '1',
    collapse: q.get('collapse') === '1',
    diffMode: q.get('diffMode') === 'absolute' ? 'absolute' : 'relative',
    theme: q.get('theme') === 'dark' ? 'dark' : 'light',
    maxNodes: Number.isInteger(maxNodes) && maxNodes > 0 ? maxNodes : DEFAULT_STATE.maxNodes,
    spanSelector: str('spanSelector', ''),
    adhoc: str('adhoc', ''),
  };
}

/** Path and query of a state; parameters equal to their default are left out. */
export function formatState(s: UiState): string {
  const q = new URLSearchParams();
  const keys: (keyof UiState)[] = [
    'service',
    'profileType',
    'query',
    'from',
    'until',
    'rightQuery',
    'rightFrom',
    'rightUntil',
    'timelineFrom',
    'timelineUntil',
    'groupBy',
    'groupValue',
    'display',
    'search',
    'focus',
    'sandwich',
    'inverted',
    'collapse',
    'diffMode',
    'theme',
    'maxNodes',
    'spanSelector',
    'adhoc',
  ];
  for (const k of keys) {
    const v = s[k];
    if (v === DEFAULT_STATE[k]) continue;
    q.set(k, typeof v === 'boolean' ? (v ? '1' : '0') : String(v));
  }
  const qs = q.toString();
  return VIEW_PATHS[s.view] + (qs ? `?${qs}` : '');
}

export interface Matcher {
  readonly name: string;
  readonly op: '=' | '!=' | '=~' | '!~';
  readonly value: string;
}

/** Parses `{a="b", c=~"d.*"}` (braces optional). Unparseable parts are skipped. */
export function parseMatchers(query: string): Matcher[] {
  const out: Matcher[] = [];
  const re = /([A-Za-z_.][A-Za-z0-9_.]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"/g;
  for (const m of query.matchAll(re)) {
    out.push({ name: m[1]!, op: m[2] as Matcher['op'], value: JSON.parse(`"${m[3]!}"`) as string });
  }
  return out;
}

export function formatMatchers(matchers: readonly Matcher[]): string {
  if (matchers.length === 0) return '';
  return `{${matchers.map((m) => `${m.name}${m.op}${JSON.stringify(m.value)}`).join(',')}}`;
}

/** The label selector for a service plus extra matchers: `{service_name="app",region="x"}`. */
export function selectorOf(service: string, query: string): string {
  const ms = parseMatchers(query).filter((m) => m.name !== 'service_name');
  return formatMatchers([{ name: 'service_name', op: '=', value: service }, ...ms]);
}

// ---------------------------------------------------------------------------------------------
// Time

export const TIME_PRESETS: readonly { label: string; from: string }[] = [
  { label: 'Last 5 minutes', from: 'now-5m' },
  { label: 'Last 15 minutes', from: 'now-15m' },
  { label: 'Last 30 minutes', from: 'now-30m' },
  { label: 'Last 1 hour', from: 'now-1h' },
  { label: 'Last 3 hours', from: 'now-3h' },
  { label: 'Last 6 hours', from: 'now-6h' },
  { label: 'Last 12 hours', from: 'now-12h' },
  { label: 'Last 24 hours', from: 'now-24h' },
  { label: 'Last 2 days', from: 'now-2d' },
  { label: 'Last 7 days', from: 'now-7d' },
  { label: 'Last 30 days', from: 'now-30d' },
];

const UNIT_MS: Readonly<Record<string, number>> = {
  s: 1e3,
  m: 60e3,
  min: 60e3,
  h: 3600e3,
  d: 86400e3,
  w: 604800e3,
};

/** ms since epoch of `now`, `now-<n><unit>`, digits (s, ms, µs or ns by length) or an ISO date; NaN when invalid. */
export function parseTime(s: string, nowMs: number): number {
  const t = s.trim();
  if (t === 'now') return nowMs;
  const rel = /^now-(\d+)(s|min|m|h|d|w)$/.exec(t);
  if (rel) return nowMs - Number(rel[1]) * UNIT_MS[rel[2]!]!;
  if (/^\d+$/.test(t)) {
    const n = Number(t);
    if (t.length === 13) return n;
    if (t.length === 16) return Math.floor(n / 1e3);
    if (t.length === 19) return Math.floor(n / 1e6);
    return n * 1e3;
  }
  const d = Date.parse(t);
  return Number.isNaN(d) ? Number.NaN : d;
}

/** Human text of a range: a preset's label or two local dates. */
export function describeRange(from: string, until: string): string {
  const preset = TIME_PRESETS.find((p) => p.from === from);
  if (preset && until === 'now') return preset.label;
  const fmt = (s: string): string =>
    /^now/.test(s) ? s : new Date(parseTime(s, Date.now())).toLocaleString();
  return `${fmt(from)} → ${fmt(until)}`;
}

/** The same-length range `offsetMs` earlier, as absolute ms strings (comparison presets). */
export function shiftRange(
  from: string,
  until: string,
  offsetMs: number,
  nowMs: number,
): { from: string; until: string } {
  return {
    from: String(Math.round(parseTime(from, nowMs) - offsetMs)),
    until: String(Math.round(parseTime(until, nowMs) - offsetMs)),
  };
}
