// The Spans view: the slowest spans of a service in the selected range, one span's (or trace's) own
// flame graph, and a box to open a pasted span or trace id. `spanSelector` in the URL opens a span
// directly, so a trace viewer's link lands on its flame graph.
import { useState } from 'react';
import { listSpans, spanFlameGraph, type SpanSummary } from '../api.ts';
import { FlamePanel } from '../flame/FlamePanel.tsx';
import { formatValue, unitsOfProfileType } from '../format.ts';
import { selectorOf } from '../state.ts';
import type { UiState } from '../state.ts';
import { ErrorBox, Loading, rangeMs, useAsync } from './common.tsx';
import { QueryBar } from './QueryBar.tsx';
import type { ViewProps } from './views.tsx';

/** How many of the slowest spans the list shows. */
const SPAN_LIST_LIMIT = 50;

/** What a pasted id is: a span id (up to 16 hex digits), a trace id (17 to 32), or neither. */
export function classifyId(text: string): { kind: 'span' | 'trace'; id: string } | null {
  const t = text.trim().toLowerCase();
  if (!/^[0-9a-f]{1,32}$/.test(t)) return null;
  return t.length <= 16
    ? { kind: 'span', id: t.padStart(16, '0') }
    : { kind: 'trace', id: t.padStart(32, '0') };
}

export function SpansView(props: ViewProps) {
  const { state, update, nowMs } = props;
  const { fromMs, untilMs } = rangeMs(state.from, state.until, nowMs);
  const open = (spanSelector: string) => update({ view: 'spans', spanSelector, focus: '' });
  return (
    <>
      <QueryBar services={props.services} state={state} update={update} fromMs={fromMs} untilMs={untilMs}>
        <OpenById key={state.spanSelector} current={state.spanSelector} onOpen={open} />
      </QueryBar>
      {state.spanSelector === '' ? <SpanList {...props} onOpen={open} /> : <SpanFlame {...props} />}
    </>
  );
}

/** The box to paste a span or trace id into. */
function OpenById(props: { readonly current: string; readonly onOpen: (id: string) => void }) {
  const [text, setText] = useState(props.current);
  const [bad, setBad] = useState(false);
  return (
    <form
      className="field"
      onSubmit={(e) => {
        e.preventDefault();
        const id = classifyId(text);
        setBad(id === null);
        if (id) props.onOpen(id.id);
      }}
    >
      <span>Span or trace id</span>
      <input
        aria-label="Span or trace id"
        placeholder="16 or 32 hex digits"
        value={text}
        onChange={(e) => setText(e.target.value)}
        aria-invalid={bad}
      />
      <button type="submit">Open</button>
      {bad && (
        <span className="error" role="alert">
          A span id is up to 16 hex digits, a trace id up to 32.
        </span>
      )}
    </form>
  );
}

function SpanList(props: ViewProps & { readonly onOpen: (spanId: string) => void }) {
  const { state, nowMs } = props;
  const { fromMs, untilMs } = rangeMs(state.from, state.until, nowMs);
  const selector = selectorOf(state.service, state.query);
  const key = JSON.stringify(['spans', state.profileType, selector, fromMs, untilMs]);
  const r = useAsync(key, (signal) =>
    listSpans({ profileType: state.profileType, selector, fromMs, untilMs, limit: SPAN_LIST_LIMIT }, signal),
  );
  const units = unitsOfProfileType(state.profileType);
  if (r.error) return <ErrorBox error={r.error} what="the spans" />;
  if (!r.data) return <Loading />;
  if (r.data.spans.length === 0)
    return (
      <p className="hint" data-testid="no-spans">
        No spans of {state.service} in this range. Samples carry a span when the application profiles with
        span labels (<code>hotpath.span</code>, or the OpenTelemetry span processor).
      </p>
    );
  return (
    <div className="explore-breakdown">
      <table className="stats-table" data-testid="spans-table">
        <thead>
          <tr>
            <th>Span</th>
            <th>Span id</th>
            <th>{units.unit === 'nanoseconds' ? 'CPU' : 'Value'}</th>
            <th>Samples</th>
            <th>Time</th>
          </tr>
        </thead>
        <tbody>
          {r.data.spans.map((s: SpanSummary) => (
            <tr
              key={s.spanId}
              onClick={() => props.onOpen(s.spanId)}
              data-span-id={s.spanId}
              title="Open its flame graph"
            >
              <td>{s.spanName || '(unnamed)'}</td>
              <td>
                <code>{s.spanId}</code>
              </td>
              <td>{formatValue(s.value, units)}</td>
              <td>{s.samples}</td>
              <td>{new Date(s.firstMs).toLocaleString()}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/**
 * The flame graph of the span or trace id in `state.spanSelector` (null `id`: not an id), within the
 * selection's application, filters and range.
 */
export function useSpanFlame(state: UiState, nowMs: number) {
  const { fromMs, untilMs } = rangeMs(state.from, state.until, nowMs);
  const selector = selectorOf(state.service, state.query);
  const id = classifyId(state.spanSelector);
  const key = id
    ? JSON.stringify(['span', state.profileType, selector, fromMs, untilMs, state.maxNodes, id.id])
    : null;
  const r = useAsync(key, (signal) =>
    spanFlameGraph(
      {
        profileType: state.profileType,
        selector,
        fromMs,
        untilMs,
        maxNodes: state.maxNodes,
        spanIds: id?.kind === 'span' ? [id.id] : [],
        traceIds: id?.kind === 'trace' ? [id.id] : [],
      },
      signal,
    ),
  );
  return { ...r, id };
}

function SpanFlame(props: ViewProps) {
  const { state, update, nowMs } = props;
  const r = useSpanFlame(state, nowMs);
  const id = r.id;
  const units = unitsOfProfileType(state.profileType);
  return (
    <>
      <div className="timeline-bar" data-testid="span-heading">
        <span>
          {id?.kind === 'trace' ? 'Trace' : 'Span'} <code>{id?.id ?? state.spanSelector}</code>
          {r.data && ` · ${formatValue(r.data.numTicks, units)}`}
        </span>
        <button onClick={() => update({ view: 'spans', spanSelector: '', focus: '' })}>All spans</button>
      </div>
      <SpanProfile span={r} state={state} update={update} />
    </>
  );
}

/** What a span's flame graph shows under its heading: the graph, or why there is none. */
export function SpanProfile(props: {
  readonly span: ReturnType<typeof useSpanFlame>;
  readonly state: UiState;
  readonly update: ViewProps['update'];
}) {
  const { span: r, state, update } = props;
  const id = r.id;
  const units = unitsOfProfileType(state.profileType);
  return (
    <>
      {!id && (
        <ErrorBox
          error={new Error('a span id is up to 16 hex digits, a trace id up to 32')}
          what="this span"
        />
      )}
      {r.error && <ErrorBox error={r.error} what="the span's flame graph" />}
      {r.loading && !r.data && <Loading />}
      {r.data && r.data.numTicks === 0 && (
        <p className="hint" data-testid="no-spans">
          No samples of this {id?.kind ?? 'span'} in {state.service} in this range: pick a wider range or
          another application.
        </p>
      )}
      {r.data && r.data.numTicks > 0 && (
        <FlamePanel
          tree={r.data}
          units={units}
          profileTypeId={state.profileType}
          state={state}
          update={update}
        />
      )}
    </>
  );
}
