// The four server-backed views: single, tag explorer, comparison and diff. They only wire URL
// state to API calls and to the flame panel / timeline components.
import { useMemo, useState, type ReactNode } from 'react';
import {
  labelNames,
  mergedPprofGzip,
  render,
  renderDiff,
  spanExemplars,
  type RenderResult,
  type SpanExemplar,
} from '../api.ts';
import { groupStats, shareSlices, type GroupStat } from '../explore.ts';
import { FlamePanel } from '../flame/FlamePanel.tsx';
import { formatPercent, formatValue, unitsOfProfileType, type Units } from '../format.ts';
import {
  describeRange,
  formatMatchers,
  parseMatchers,
  selectorOf,
  shiftRange,
  type UiState,
} from '../state.ts';
import { Changes } from './Changes.tsx';
import {
  Chip,
  ErrorBox,
  LabelSelector,
  Loading,
  ServicePicker,
  TimePicker,
  rangeMs,
  useAsync,
} from './common.tsx';
import { QueryBar } from './QueryBar.tsx';
import { SpanProfile, useSpanFlame } from './Spans.tsx';
import {
  SERIES_COLORS,
  Timeline,
  type TimelineBand,
  type TimelineMarker,
  type TimelineSeries,
} from './Timeline.tsx';

export interface ViewProps {
  readonly state: UiState;
  readonly update: (patch: Partial<UiState>, replace?: boolean) => void;
  readonly services: ReadonlyMap<string, readonly string[]>;
  /** The "now" relative times resolve against; changes on refresh. */
  readonly nowMs: number;
}

function useRender(
  state: UiState,
  query: string,
  from: string,
  until: string,
  nowMs: number,
  groupBy = '',
  maxNodes = state.maxNodes,
  enabled = true,
) {
  const { fromMs, untilMs } = rangeMs(from, until, nowMs);
  const selector = selectorOf(state.service, query);
  const ok = enabled && state.service !== '' && state.profileType !== '';
  const key = ok ? JSON.stringify([state.profileType, selector, fromMs, untilMs, groupBy, maxNodes]) : null;
  const r = useAsync<RenderResult>(key, (signal) =>
    render({ profileType: state.profileType, selector, fromMs, untilMs, maxNodes, groupBy }, signal),
  );
  // Exports fetch the whole selection, not the flame graph cut to maxNodes.
  const fullPprof = () => mergedPprofGzip({ profileType: state.profileType, selector, fromMs, untilMs });
  return { ...r, fullPprof };
}

function singleSeries(r: RenderResult | null, label: string, color: string): TimelineSeries[] {
  return r?.timeline ? [{ label, color, data: r.timeline }] : [];
}

const SELECTION_COLOR = '#1c7ed6';

/**
 * The single and tag explorer views' timeline range: the selection (from/until) unless a drag left a
 * wider range in view (timelineFrom/Until). A drag selects and keeps the view; zoom makes the
 * selection the view; clear makes the view the selection again.
 */
function useSelectionRange(state: UiState, update: ViewProps['update'], nowMs: number, groupBy = '') {
  const selection = rangeMs(state.from, state.until, nowMs);
  const wide = state.timelineFrom !== '' && state.timelineUntil !== '';
  // The timeline of the wider range in view, when a drag left one (no flame graph needed: 1 node).
  const wideRender = useRender(
    state,
    state.query,
    state.timelineFrom,
    state.timelineUntil,
    nowMs,
    groupBy,
    1,
    wide,
  );
  const view = wide ? rangeMs(state.timelineFrom, state.timelineUntil, nowMs) : selection;
  const bands: TimelineBand[] = wide
    ? [{ id: 'selection', ...selection, color: SELECTION_COLOR, label: 'selection' }]
    : [];
  return {
    selection,
    wide,
    wideData: wideRender.data,
    view,
    bands,
    /** A drag: the flame graph shows [from, until]; the timeline keeps what it showed. */
    select: (fromMs: number, untilMs: number) =>
      update({
        from: String(fromMs),
        until: String(untilMs),
        timelineFrom: wide ? state.timelineFrom : state.from,
        timelineUntil: wide ? state.timelineUntil : state.until,
        focus: '',
      }),
    zoom: () => update({ timelineFrom: '', timelineUntil: '' }),
    clear: () =>
      update({
        from: state.timelineFrom,
        until: state.timelineUntil,
        timelineFrom: '',
        timelineUntil: '',
        focus: '',
      }),
  };
}

/** Under a timeline with a selection inside a wider view: what is selected, zoom and clear. */
function SelectionBar(props: {
  readonly bands: readonly TimelineBand[];
  readonly onZoom: () => void;
  readonly onClear?: () => void;
  readonly children?: ReactNode;
}) {
  return (
    <div className="timeline-bar" data-testid="timeline-bar">
      {props.children}
      {props.bands.map((b) => (
        <span key={b.id} data-testid={`selected-${b.id}`}>
          <span className="swatch" style={{ background: b.color }} />
          {b.label}: {describeRange(String(b.fromMs), String(b.untilMs))}
        </span>
      ))}
      {props.bands.length > 0 && (
        <button onClick={props.onZoom} title="Or double-click the timeline">
          Zoom to selection
        </button>
      )}
      {props.onClear && props.bands.length > 0 && <button onClick={props.onClear}>Clear selection</button>}
    </div>
  );
}

/**
 * The largest span of each step of the timeline in view, as markers on its line: one SelectSeries with
 * span exemplars per timeline load (none while there is no timeline; none drawn where no step has spans).
 */
function useExemplarMarkers(
  state: UiState,
  view: { fromMs: number; untilMs: number },
  timeline: RenderResult['timeline'] | undefined,
  units: Units,
): TimelineMarker[] {
  const selector = selectorOf(state.service, state.query);
  const stepS = timeline?.durationDelta ?? 0;
  const key =
    stepS > 0 && timeline!.samples.length > 0
      ? JSON.stringify(['exemplars', state.profileType, selector, view.fromMs, view.untilMs, stepS])
      : null;
  const r = useAsync<SpanExemplar[]>(key, (signal) =>
    spanExemplars({ profileType: state.profileType, selector, ...view, stepS }, signal),
  );
  return useMemo(() => {
    // One marker per span (a long span can be the largest of two steps: its larger one).
    const best = new Map<string, SpanExemplar>();
    for (const e of r.data ?? []) if ((best.get(e.spanId)?.value ?? -1) < e.value) best.set(e.spanId, e);
    return [...best.values()].map((e) => {
      // On the line's own vertex of that step when it has one.
      const k = timeline ? Math.round((e.stepMs / 1000 - timeline.startTime) / timeline.durationDelta) : -1;
      const onLine = timeline !== undefined && timeline !== null && k >= 0 && k < timeline.samples.length;
      return {
        id: e.spanId,
        timeMs: onLine ? (timeline.startTime + k * timeline.durationDelta) * 1000 : e.stepMs,
        value: onLine ? timeline.samples[k]! : e.pointValue,
        label: `Largest span here: ${e.spanName || '(unnamed)'} ${e.spanId}, ${formatValue(e.value, units)}. Click for its flame graph.`,
        selected: e.spanId === state.spanSelector,
      };
    });
  }, [r.data, timeline, units, state.spanSelector]);
}

/**
 * The single view. With `spanSelector` (a trace viewer's link, or a click on a timeline marker) the
 * flame graph is that span's (or trace's) own, shown by a chip whose × goes back to the selection's.
 */
export function SingleView(props: ViewProps) {
  const { state, update, nowMs } = props;
  const r = useRender(state, state.query, state.from, state.until, nowMs);
  const span = useSpanFlame(state, nowMs);
  const spanMode = state.spanSelector !== '';
  const range = useSelectionRange(state, update, nowMs);
  const units = unitsOfProfileType(state.profileType);
  const { fromMs, untilMs } = range.selection;
  const timelineData = range.wide ? range.wideData : r.data;
  const series = useMemo(
    () => singleSeries(timelineData, state.service, SERIES_COLORS[0]!),
    [timelineData, state.service],
  );
  const markers = useExemplarMarkers(state, range.view, timelineData?.timeline, units);
  return (
    <>
      <QueryBar
        services={props.services}
        state={state}
        update={update}
        fromMs={fromMs}
        untilMs={untilMs}
        afterFilters={
          spanMode && (
            <Chip
              className="span-chip"
              testId="span-chip"
              title="The flame graph holds only this request's samples"
              removeLabel="Show the whole selection, not this span"
              onRemove={() => update({ spanSelector: '', focus: '' })}
            >
              {span.id?.kind === 'trace' ? 'trace' : 'span'} {span.id?.id ?? state.spanSelector}
              {span.data && ` · ${formatValue(span.data.numTicks, units)}`}
            </Chip>
          )
        }
      />
      {r.error && <ErrorBox error={r.error} what="the flame graph" />}
      {r.loading && !r.data && <Loading />}
      {series.length > 0 && (
        <Timeline
          theme={state.theme}
          series={series}
          units={units}
          fromMs={range.view.fromMs}
          untilMs={range.view.untilMs}
          bands={range.bands}
          markers={markers}
          onMarker={(spanSelector) => update({ spanSelector, focus: '' })}
          onSelect={range.select}
          onBandChange={(_id, f, u) => range.select(f, u)}
          onZoom={range.zoom}
        />
      )}
      <SelectionBar bands={range.bands} onZoom={range.zoom} onClear={range.clear}>
        {markers.length > 0 && (
          <span className="muted" data-testid="exemplar-hint">
            <span className="timeline-marker-key" /> the largest span of a step: click it for its flame graph
          </span>
        )}
      </SelectionBar>
      {spanMode ? (
        <SpanProfile span={span} state={state} update={update} />
      ) : (
        <>
          <Changes state={state} update={update} nowMs={nowMs} />
          {r.data && (
            <FlamePanel
              tree={r.data.tree}
              units={units}
              profileTypeId={state.profileType}
              state={state}
              update={update}
              fullPprof={r.fullPprof}
            />
          )}
        </>
      )}
    </>
  );
}

export function ExploreView(props: ViewProps) {
  const { state, update, nowMs } = props;
  const units = unitsOfProfileType(state.profileType);
  const groupBy = state.groupBy;
  const range = useSelectionRange(state, update, nowMs, groupBy);
  const { fromMs, untilMs } = range.selection;
  const all = useRender(state, state.query, state.from, state.until, nowMs, groupBy);
  const timelineData = range.wide ? range.wideData : all.data;
  const valueQuery =
    groupBy && state.groupValue
      ? formatMatchers([
          ...parseMatchers(state.query).filter((m) => m.name !== groupBy),
          { name: groupBy, op: '=', value: state.groupValue },
        ])
      : null;
  const one = useRender(
    state,
    valueQuery ?? state.query,
    state.from,
    state.until,
    nowMs,
    '',
    state.maxNodes,
    valueQuery !== null,
  );
  const stats = useMemo(() => (all.data?.groups ? groupStats(all.data.groups) : []), [all.data]);
  // One line per value, coloured as its table row (values the selection lacks are left out).
  const series = useMemo<TimelineSeries[]>(
    () =>
      timelineData?.groups
        ? stats
            .map((s, k) => ({
              label: s.value,
              color: SERIES_COLORS[k % SERIES_COLORS.length]!,
              data: timelineData.groups![s.value]!,
            }))
            .filter((s) => s.data !== undefined)
        : singleSeries(timelineData, state.service, SERIES_COLORS[0]!),
    [timelineData, stats, state.service],
  );
  const names = useLabelNames(state, fromMs, untilMs);
  const shown = valueQuery ? one.data : all.data;
  /** A value clicked in the table or chart filters the flame graph to it; clicked again, unfilters. */
  const pick = (value: string) => update({ groupValue: value === state.groupValue ? '' : value, focus: '' });
  return (
    <>
      <QueryBar
        services={props.services}
        state={state}
        update={update}
        fromMs={fromMs}
        untilMs={untilMs}
        beforeFilters={
          <label className="field">
            <span>Group by</span>
            <select
              aria-label="Group by"
              value={groupBy}
              onChange={(e) => update({ groupBy: e.target.value, groupValue: '', focus: '' })}
            >
              <option value="">(none)</option>
              {names.map((n) => (
                <option key={n}>{n}</option>
              ))}
            </select>
          </label>
        }
        afterFilters={
          valueQuery && (
            <Chip
              className="value-chip"
              testId="value-filter"
              title="The flame graph's filter"
              removeLabel={`Remove ${groupBy} value filter`}
              onRemove={() => pick(state.groupValue)}
            >
              {groupBy}={JSON.stringify(state.groupValue)}
            </Chip>
          )
        }
      />
      {all.error && <ErrorBox error={all.error} what="the tag breakdown" />}
      {all.loading && !all.data && <Loading />}
      {!groupBy && (
        <p className="hint">
          Pick a label to group by (e.g. region or vehicle) to see one timeline per value.
        </p>
      )}
      {series.length > 0 && (
        <Timeline
          theme={state.theme}
          series={series}
          units={units}
          fromMs={range.view.fromMs}
          untilMs={range.view.untilMs}
          bands={range.bands}
          height={180}
          testId="explore-timeline"
          onSelect={range.select}
          onBandChange={(_id, f, u) => range.select(f, u)}
          onZoom={range.zoom}
        />
      )}
      <SelectionBar bands={range.bands} onZoom={range.zoom} onClear={range.clear} />
      {groupBy && stats.length > 0 && (
        <div className="explore-breakdown">
          <table className="stats-table" data-testid="explore-table">
            <thead>
              <tr>
                <th>{groupBy}</th>
                <th>Average</th>
                <th>Std. deviation</th>
                <th>Total</th>
                <th>Share of total</th>
              </tr>
            </thead>
            <tbody>
              {stats.map((s, k) => (
                <tr
                  key={s.value}
                  className={s.value === state.groupValue ? 'selected' : ''}
                  onClick={() => pick(s.value)}
                  data-value={s.value}
                >
                  <td>
                    <span className="dot" style={{ background: SERIES_COLORS[k % SERIES_COLORS.length] }} />
                    {s.value}
                  </td>
                  <td>{formatValue(s.avg, units)}</td>
                  <td>{formatValue(s.stddev, units)}</td>
                  <td>{formatValue(s.total, units)}</td>
                  <td className="share-cell">
                    <span className="bar" style={{ width: `${(s.share * 100).toFixed(1)}%` }} />
                    {formatPercent(s.share)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <ShareChart stats={stats} selected={state.groupValue} groupBy={groupBy} onPick={pick} />
        </div>
      )}
      {valueQuery && (
        <div className="shortcuts">
          <span className="muted">
            {groupBy}={state.groupValue}:
          </span>
          <button onClick={() => update({ view: 'single', query: valueQuery, focus: '' })}>
            Open in single view
          </button>
          <button
            onClick={() =>
              update({
                view: 'diff',
                query: formatMatchers([
                  ...parseMatchers(state.query).filter((m) => m.name !== groupBy),
                  { name: groupBy, op: '!=', value: state.groupValue },
                ]),
                rightQuery: valueQuery,
                rightFrom: state.from,
                rightUntil: state.until,
                focus: '',
              })
            }
          >
            Diff against the other values
          </button>
        </div>
      )}
      <Changes state={state} update={update} nowMs={nowMs} />
      {one.error && <ErrorBox error={one.error} what="the flame graph" />}
      {shown && (
        <FlamePanel
          tree={shown.tree}
          units={units}
          profileTypeId={state.profileType}
          state={state}
          update={update}
          title={valueQuery ? `${groupBy}=${state.groupValue}` : 'All values'}
          fullPprof={valueQuery ? one.fullPprof : all.fullPprof}
        />
      )}
    </>
  );
}

/** Share of total per value as a pie, coloured as the table rows; a slice click picks its value. */
function ShareChart(props: {
  readonly stats: readonly GroupStat[];
  readonly selected: string;
  readonly groupBy: string;
  readonly onPick: (value: string) => void;
}) {
  const r = 70;
  const paths = shareSlices(
    props.stats.map((s) => s.share),
    r,
  );
  return (
    <svg
      className="share-chart"
      data-testid="share-chart"
      viewBox={`-4 -4 ${2 * r + 8} ${2 * r + 8}`}
      width={2 * r + 8}
      height={2 * r + 8}
      role="img"
      aria-label={`Share of total by ${props.groupBy}`}
    >
      {props.stats.map((s, k) =>
        paths[k] ? (
          <path
            key={s.value}
            d={paths[k]}
            data-value={s.value}
            fill={SERIES_COLORS[k % SERIES_COLORS.length]}
            className={s.value === props.selected ? 'selected' : ''}
            onClick={() => props.onPick(s.value)}
          >
            <title>
              {s.value}: {formatPercent(s.share)}
            </title>
          </path>
        ) : null,
      )}
    </svg>
  );
}

function useLabelNames(state: UiState, fromMs: number, untilMs: number): string[] {
  const selector = selectorOf(state.service, '');
  const key = state.service
    ? JSON.stringify([selector, Math.round(fromMs / 60000), Math.round(untilMs / 60000)])
    : null;
  const r = useAsync<string[]>(key, (signal) => labelNames(selector, fromMs, untilMs, signal));
  return r.data ?? [];
}

const COMPARE_PRESETS: readonly [string, number][] = [
  ['1 h', 3_600_000],
  ['12 h', 43_200_000],
  ['24 h', 86_400_000],
  ['1 week', 604_800_000],
];

/**
 * Baseline (left) and comparison (right) selectors over ONE shared timeline on which each side's range
 * is a coloured band; a drag sets the range of the side chosen beside it.
 */
function Sides(props: ViewProps) {
  const { state, update, nowMs } = props;
  const units = unitsOfProfileType(state.profileType);
  const l = rangeMs(state.from, state.until, nowMs);
  const r = rangeMs(state.rightFrom, state.rightUntil, nowMs);
  const [dragSide, setDragSide] = useState<'left' | 'right'>('left');
  // The range in view: set by a drag or the timeline's picker, else the span of both sides (kept as
  // the sides' own strings, so `now-1h` stays relative).
  const wide = state.timelineFrom !== '' && state.timelineUntil !== '';
  const viewFrom = wide ? state.timelineFrom : l.fromMs <= r.fromMs ? state.from : state.rightFrom;
  const viewUntil = wide ? state.timelineUntil : l.untilMs >= r.untilMs ? state.until : state.rightUntil;
  const view = rangeMs(viewFrom, viewUntil, nowMs);
  const sameQuery = selectorOf(state.service, state.query) === selectorOf(state.service, state.rightQuery);
  const left = useRender(state, state.query, viewFrom, viewUntil, nowMs, '', 1);
  const right = useRender(state, state.rightQuery, viewFrom, viewUntil, nowMs, '', 1, !sameQuery);
  const series = useMemo(
    () =>
      sameQuery
        ? singleSeries(left.data, 'baseline and comparison', SERIES_COLORS[8]!)
        : [
            ...singleSeries(left.data, 'baseline', SERIES_COLORS[1]!),
            ...singleSeries(right.data, 'comparison', SERIES_COLORS[0]!),
          ],
    [sameQuery, left.data, right.data],
  );
  const bands: TimelineBand[] = [
    { id: 'left', ...l, color: SERIES_COLORS[1]!, label: 'baseline' },
    { id: 'right', ...r, color: SERIES_COLORS[0]!, label: 'comparison' },
  ];
  const setSide = (side: string, fromMs: number, untilMs: number) => {
    const range =
      side === 'left'
        ? { from: String(fromMs), until: String(untilMs) }
        : { rightFrom: String(fromMs), rightUntil: String(untilMs) };
    update({ ...range, timelineFrom: viewFrom, timelineUntil: viewUntil, focus: '' });
  };
  const zoom = () => update({ timelineFrom: '', timelineUntil: '' });
  return (
    <>
      <div className="querybar">
        <ServicePicker services={props.services} state={state} update={update} />
        <span className="field">
          <span>Baseline = comparison shifted back by</span>
          {COMPARE_PRESETS.map(([label, ms]) => (
            <button
              key={label}
              onClick={() => {
                const s = shiftRange(state.rightFrom, state.rightUntil, ms, nowMs);
                update({
                  from: s.from,
                  until: s.until,
                  query: state.rightQuery,
                  timelineFrom: '',
                  timelineUntil: '',
                });
              }}
            >
              {label}
            </button>
          ))}
        </span>
      </div>
      <div className="sides">
        <SelectionSide
          side="left"
          title="Baseline"
          state={state}
          query={state.query}
          from={state.from}
          until={state.until}
          range={l}
          onQuery={(query) => update({ query })}
          onRange={(from, until) => update({ from, until, timelineFrom: '', timelineUntil: '' })}
        />
        <SelectionSide
          side="right"
          title="Comparison"
          state={state}
          query={state.rightQuery}
          from={state.rightFrom}
          until={state.rightUntil}
          range={r}
          onQuery={(rightQuery) => update({ rightQuery })}
          onRange={(rightFrom, rightUntil) =>
            update({ rightFrom, rightUntil, timelineFrom: '', timelineUntil: '' })
          }
        />
      </div>
      {left.error && <ErrorBox error={left.error} what="the baseline timeline" />}
      {right.error && <ErrorBox error={right.error} what="the comparison timeline" />}
      <SelectionBar bands={bands} onZoom={zoom}>
        <span className="field" role="radiogroup" aria-label="Drag selects">
          <span>Drag selects</span>
          {(['left', 'right'] as const).map((side) => (
            <label key={side}>
              <input
                type="radio"
                name="drag-side"
                checked={dragSide === side}
                onChange={() => setDragSide(side)}
              />
              {side === 'left' ? 'Baseline' : 'Comparison'}
            </label>
          ))}
        </span>
        <span className="muted">Timeline</span>
        <TimePicker
          id="timeline"
          from={viewFrom}
          until={viewUntil}
          onChange={(timelineFrom, timelineUntil) => update({ timelineFrom, timelineUntil })}
        />
      </SelectionBar>
      {series.length > 0 && (
        <Timeline
          theme={state.theme}
          series={series}
          units={units}
          fromMs={view.fromMs}
          untilMs={view.untilMs}
          bands={bands}
          testId="timeline-shared"
          onSelect={(f, u) => setSide(dragSide, f, u)}
          onBandChange={setSide}
          onZoom={zoom}
        />
      )}
    </>
  );
}

/** One side of a comparison: its label selector and time range. */
function SelectionSide(props: {
  side: 'left' | 'right';
  title: string;
  state: UiState;
  query: string;
  from: string;
  until: string;
  range: { fromMs: number; untilMs: number };
  onQuery: (query: string) => void;
  onRange: (from: string, until: string) => void;
}) {
  const { side, state } = props;
  return (
    <div className="side" data-testid={`side-${side}`}>
      <h3>
        <span
          className="swatch"
          style={{ background: side === 'left' ? SERIES_COLORS[1] : SERIES_COLORS[0] }}
        />
        {props.title}
      </h3>
      <LabelSelector
        id={side}
        service={state.service}
        query={props.query}
        fromMs={props.range.fromMs}
        untilMs={props.range.untilMs}
        onChange={props.onQuery}
      />
      <TimePicker id={side} from={props.from} until={props.until} onChange={props.onRange} />
    </div>
  );
}

export function ComparisonView(props: ViewProps) {
  const { state, update, nowMs } = props;
  const units = unitsOfProfileType(state.profileType);
  const left = useRender(state, state.query, state.from, state.until, nowMs);
  const right = useRender(state, state.rightQuery, state.rightFrom, state.rightUntil, nowMs);
  return (
    <>
      <Sides {...props} />
      {left.error && <ErrorBox error={left.error} what="the baseline" />}
      {right.error && <ErrorBox error={right.error} what="the comparison" />}
      <div className="sides">
        <div className="side">
          {left.data && (
            <FlamePanel
              label="left"
              title="Baseline"
              tree={left.data.tree}
              units={units}
              profileTypeId={state.profileType}
              state={state}
              update={update}
              fullPprof={left.fullPprof}
            />
          )}
        </div>
        <div className="side">
          {right.data && (
            <FlamePanel
              label="right"
              title="Comparison"
              tree={right.data.tree}
              units={units}
              profileTypeId={state.profileType}
              state={state}
              update={update}
              fullPprof={right.fullPprof}
            />
          )}
        </div>
      </div>
    </>
  );
}

export function DiffView(props: ViewProps) {
  const { state, update, nowMs } = props;
  const units = unitsOfProfileType(state.profileType);
  const l = rangeMs(state.from, state.until, nowMs);
  const r = rangeMs(state.rightFrom, state.rightUntil, nowMs);
  const ok = state.service !== '' && state.profileType !== '';
  const leftSelector = selectorOf(state.service, state.query);
  const rightSelector = selectorOf(state.service, state.rightQuery);
  const key = ok
    ? JSON.stringify([state.profileType, leftSelector, l, rightSelector, r, state.maxNodes])
    : null;
  const diff = useAsync<RenderResult>(key, (signal) =>
    renderDiff(
      {
        profileType: state.profileType,
        leftSelector,
        leftFromMs: l.fromMs,
        leftUntilMs: l.untilMs,
        rightSelector,
        rightFromMs: r.fromMs,
        rightUntilMs: r.untilMs,
        maxNodes: state.maxNodes,
      },
      signal,
    ),
  );
  return (
    <>
      <Sides {...props} />
      {diff.error && <ErrorBox error={diff.error} what="the diff" />}
      {diff.loading && !diff.data && <Loading />}
      {diff.data && (
        <FlamePanel
          label="diff"
          title="Diff: baseline → comparison"
          tree={diff.data.tree}
          units={units}
          profileTypeId={state.profileType}
          state={state}
          update={update}
        />
      )}
    </>
  );
}
