// Small shared pieces: async loading hook, error and empty states, service/type/label/time pickers.
import { useEffect, useState, type ReactNode } from 'react';
import { labelNames, labelValues } from '../api.ts';
import {
  TIME_PRESETS,
  describeRange,
  formatMatchers,
  parseMatchers,
  parseTime,
  selectorOf,
  type Matcher,
  type UiState,
} from '../state.ts';

export interface Async<T> {
  readonly data: T | null;
  readonly error: Error | null;
  readonly loading: boolean;
}

/** Runs `run` whenever `key` changes; aborts the previous run. A null key means "nothing to load". */
export function useAsync<T>(key: string | null, run: (signal: AbortSignal) => Promise<T>): Async<T> {
  const [state, setState] = useState<Async<T>>({ data: null, error: null, loading: key !== null });
  useEffect(() => {
    if (key === null) {
      setState({ data: null, error: null, loading: false });
      return;
    }
    const ac = new AbortController();
    setState((s) => ({ data: s.data, error: null, loading: true }));
    run(ac.signal).then(
      (data) => !ac.signal.aborted && setState({ data, error: null, loading: false }),
      (error: unknown) =>
        !ac.signal.aborted &&
        setState({
          data: null,
          error: error instanceof Error ? error : new Error(String(error)),
          loading: false,
        }),
    );
    return () => ac.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
  return state;
}

export function ErrorBox(props: { error: Error; what: string }) {
  return (
    <div className="error" role="alert">
      <strong>Could not load {props.what}:</strong> {props.error.message}
    </div>
  );
}

export function Loading() {
  return <div className="loading">Loading…</div>;
}

export function NoData(props: { children?: ReactNode }) {
  const origin = typeof location === 'undefined' ? 'http://localhost:4040' : location.origin;
  return (
    <div className="empty-state" data-testid="no-data">
      <h2>No data yet</h2>
      {props.children}
      <p>Configure your SDK to send profiles to this server, for example in Python:</p>
      <pre>{`import hotpath

hotpath.configure(
    application_name="my.python.app",
    server_address="${origin}",
    tags={"region": "us-east"},
)`}</pre>
      <p>
        Existing Pyroscope clients work too (pyroscope-io, @pyroscope/nodejs, Grafana Alloy): point their
        server address at {origin}. Or upload a profile file (pprof, folded, speedscope) with the CLI:
      </p>
      <pre>{`npx hotpath ingest profile.pb.gz --server ${origin} --app my.app`}</pre>
      <p>To look at a file without storing it, use the Upload tab.</p>
    </div>
  );
}

/** Resolves a state's relative times once per render key. */
export function rangeMs(from: string, until: string, nowMs: number): { fromMs: number; untilMs: number } {
  return { fromMs: parseTime(from, nowMs), untilMs: parseTime(until, nowMs) };
}

/** Something that narrows the view, shown as a chip; its × takes it away. */
export function Chip(props: {
  readonly children: ReactNode;
  readonly removeLabel: string;
  readonly onRemove: () => void;
  readonly className?: string;
  readonly testId?: string;
  readonly title?: string;
}) {
  return (
    <span
      className={props.className ? `chip ${props.className}` : 'chip'}
      data-testid={props.testId}
      title={props.title}
    >
      {props.children}
      <button aria-label={props.removeLabel} onClick={props.onRemove}>
        ×
      </button>
    </span>
  );
}

export function ServicePicker(props: {
  readonly services: ReadonlyMap<string, readonly string[]>;
  readonly state: UiState;
  readonly update: (patch: Partial<UiState>) => void;
}) {
  const { services, state } = props;
  const types = services.get(state.service) ?? [];
  return (
    <>
      <label className="field">
        <span>Application</span>
        <select
          aria-label="Application"
          value={state.service}
          onChange={(e) => {
            const t = services.get(e.target.value) ?? [];
            props.update({
              service: e.target.value,
              profileType: t.includes(state.profileType) ? state.profileType : (t[0] ?? ''),
              query: '',
              rightQuery: '',
              focus: '',
              groupValue: '',
            });
          }}
        >
          {[...services.keys()].map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </label>
      <label className="field">
        <span>Profile type</span>
        <select
          aria-label="Profile type"
          value={state.profileType}
          onChange={(e) => props.update({ profileType: e.target.value, focus: '' })}
        >
          {types.map((t) => (
            <option key={t} value={t}>
              {profileTypeLabel(t)}
            </option>
          ))}
        </select>
      </label>
    </>
  );
}

/** "process_cpu:cpu:nanoseconds:cpu:nanoseconds" → "CPU (cpu, nanoseconds)". */
export function profileTypeLabel(id: string): string {
  const [name = '', sampleType = '', unit = ''] = id.split(':');
  const known: Record<string, string> = {
    'process_cpu:cpu': 'CPU time',
    'process_cpu:samples': 'CPU samples',
    'memory:alloc_space': 'Memory allocated (bytes)',
    'memory:alloc_objects': 'Memory allocated (objects)',
    'memory:inuse_space': 'Memory in use (bytes)',
    'memory:inuse_objects': 'Memory in use (objects)',
    'wall:wall': 'Wall time',
  };
  return known[`${name}:${sampleType}`] ?? `${name} ${sampleType} (${unit})`;
}

/** Label matchers as removable chips plus an add form with autocomplete of label names and values. */
export function LabelSelector(props: {
  readonly service: string;
  readonly query: string;
  readonly fromMs: number;
  readonly untilMs: number;
  readonly onChange: (query: string) => void;
  readonly id: string;
}) {
  const matchers = parseMatchers(props.query);
  const [name, setName] = useState('');
  const [op, setOp] = useState<Matcher['op']>('=');
  const [value, setValue] = useState('');
  const [names, setNames] = useState<string[]>([]);
  const [values, setValues] = useState<string[]>([]);
  const selector = selectorOf(props.service, props.query);
  useEffect(() => {
    if (!props.service) return;
    const ac = new AbortController();
    labelNames(selector, props.fromMs, props.untilMs, ac.signal).then(setNames, () => setNames([]));
    return () => ac.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [selector, Math.round(props.fromMs / 60000), Math.round(props.untilMs / 60000)]);
  useEffect(() => {
    if (!props.service || !names.includes(name)) {
      setValues([]);
      return;
    }
    const ac = new AbortController();
    labelValues(name, selector, props.fromMs, props.untilMs, ac.signal).then(setValues, () => setValues([]));
    return () => ac.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [name, names, selector]);
  const add = () => {
    if (!name || !value) return;
    props.onChange(
      formatMatchers([...matchers.filter((m) => m.name !== name || m.op !== op), { name, op, value }]),
    );
    setValue('');
  };
  return (
    <div className="label-selector" data-testid={`labels-${props.id}`}>
      {matchers.map((m, k) => (
        <Chip
          key={k}
          removeLabel={`Remove ${m.name}`}
          onRemove={() => props.onChange(formatMatchers(matchers.filter((_, j) => j !== k)))}
        >
          {m.name}
          {m.op}
          {JSON.stringify(m.value)}
        </Chip>
      ))}
      <input
        list={`names-${props.id}`}
        aria-label="Label name"
        placeholder="label"
        value={name}
        onChange={(e) => setName(e.target.value)}
        size={10}
      />
      <datalist id={`names-${props.id}`}>
        {names.map((n) => (
          <option key={n} value={n} />
        ))}
      </datalist>
      <select aria-label="Operator" value={op} onChange={(e) => setOp(e.target.value as Matcher['op'])}>
        {(['=', '!=', '=~', '!~'] as const).map((o) => (
          <option key={o}>{o}</option>
        ))}
      </select>
      <input
        list={`values-${props.id}`}
        aria-label="Label value"
        placeholder="value"
        value={value}
        onChange={(e) => setValue(e.target.value)}
        onKeyDown={(e) => e.key === 'Enter' && add()}
        size={12}
      />
      <datalist id={`values-${props.id}`}>
        {values.map((v) => (
          <option key={v} value={v} />
        ))}
      </datalist>
      <button onClick={add} disabled={!name || !value}>
        Add filter
      </button>
    </div>
  );
}

function toLocalInput(ms: number): string {
  if (!Number.isFinite(ms)) return '';
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60000);
  return d.toISOString().slice(0, 16);
}

/** Presets and absolute from/until. */
export function TimePicker(props: {
  readonly from: string;
  readonly until: string;
  readonly onChange: (from: string, until: string) => void;
  readonly id: string;
}) {
  const now = Date.now();
  const isPreset = props.until === 'now' && TIME_PRESETS.some((p) => p.from === props.from);
  return (
    <div className="time-picker" data-testid={`time-${props.id}`}>
      <select
        aria-label="Time range"
        value={isPreset ? props.from : 'custom'}
        onChange={(e) => e.target.value !== 'custom' && props.onChange(e.target.value, 'now')}
      >
        {TIME_PRESETS.map((p) => (
          <option key={p.from} value={p.from}>
            {p.label}
          </option>
        ))}
        <option value="custom">{isPreset ? 'Custom…' : describeRange(props.from, props.until)}</option>
      </select>
      <input
        type="datetime-local"
        aria-label="From"
        value={toLocalInput(parseTime(props.from, now))}
        onChange={(e) =>
          e.target.value &&
          props.onChange(
            String(new Date(e.target.value).getTime()),
            props.until === 'now' ? String(now) : props.until,
          )
        }
      />
      <input
        type="datetime-local"
        aria-label="Until"
        value={toLocalInput(parseTime(props.until, now))}
        onChange={(e) =>
          e.target.value &&
          props.onChange(
            props.from === 'now' ? String(now) : String(parseTime(props.from, now)),
            String(new Date(e.target.value).getTime()),
          )
        }
      />
    </div>
  );
}
