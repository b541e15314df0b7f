// The four server-backed views: single, tag explorer, comparison and diff. They only wire URL
// state to API calls and to the flame panel / timeline components.
import { useMemo } from 'react';
import { labelNames, mergedPprofGzip, render, renderDiff, type RenderResult } from '../api.ts';
import { groupStats } from '../explore.ts';
import { FlamePanel } from '../flame/FlamePanel.tsx';
import { formatPercent, formatValue, unitsOfProfileType } from '../format.ts';
import { formatMatchers, parseMatchers, selectorOf, shiftRange, type UiState } from '../state.ts';
import { ErrorBox, LabelSelector, Loading, ServicePicker, TimePicker, rangeMs, useAsync } from './common.tsx';
import { SERIES_COLORS, Timeline, type TimelineSeries } from './Timeline.tsx';

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

export function SingleView(props: ViewProps) {
  const { state, update, nowMs } = props;
  const r = useRender(state, state.query, state.from, state.until, nowMs);
  const units = unitsOfProfileType(state.profileType);
  const { fromMs, untilMs } = rangeMs(state.from, state.until, nowMs);
  const series = useMemo(
    () => singleSeries(r.data, state.service, SERIES_COLORS[0]!),
    [r.data, state.service],
  );
  return (
    <>
      <div className="querybar">
        <ServicePicker services={props.services} state={state} update={update} />
        <LabelSelector
          id="main"
          service={state.service}
          query={state.query}
          fromMs={fromMs}
          untilMs={untilMs}
          onChange={(query) => update({ query, focus: '' })}
        />
        <TimePicker
          id="main"
          from={state.from}
          until={state.until}
          onChange={(from, until) => update({ from, until })}
        />
      </div>
      {r.error && <ErrorBox error={r.error} what="the flame graph" />}
      {r.loading && !r.data && <Loading />}
      {series.length > 0 && (
        <Timeline
          theme={state.theme}
          series={series}
          units={units}
          fromMs={fromMs}
          untilMs={untilMs}
          onSelect={(f, u) => update({ from: String(f), until: String(u) })}
        />
      )}
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
  );
}

export function ExploreView(props: ViewProps) {
  const { state, update, nowMs } = props;
  const units = unitsOfProfileType(state.profileType);
  const { fromMs, untilMs } = rangeMs(state.from, state.until, nowMs);
  const groupBy = state.groupBy;
  const all = useRender(state, state.query, state.from, state.until, nowMs, groupBy);
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
  const series = useMemo<TimelineSeries[]>(
    () =>
      all.data?.groups
        ? stats.map((s, k) => ({
            label: s.value,
            color: SERIES_COLORS[k % SERIES_COLORS.length]!,
            data: all.data!.groups![s.value]!,
          }))
        : singleSeries(all.data, state.service, SERIES_COLORS[0]!),
    [all.data, stats, state.service],
  );
  const names = useLabelNames(state, fromMs, untilMs);
  const shown = valueQuery ? one.data : all.data;
  return (
    <>
      <div className="querybar">
        <ServicePicker services={props.services} state={state} update={update} />
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
        <LabelSelector
          id="main"
          service={state.service}
          query={state.query}
          fromMs={fromMs}
          untilMs={untilMs}
          onChange={(query) => update({ query })}
        />
        <TimePicker
          id="main"
          from={state.from}
          until={state.until}
          onChange={(from, until) => update({ from, until })}
        />
      </div>
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
          fromMs={fromMs}
          untilMs={untilMs}
          height={180}
          testId="explore-timeline"
          onSelect={(f, u) => update({ from: String(f), until: String(u) })}
        />
      )}
      {groupBy && stats.length > 0 && (
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
                onClick={() => update({ groupValue: s.value === state.groupValue ? '' : s.value, focus: '' })}
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

/** Baseline (left) and comparison (right) selectors with their timelines. */
function Sides(props: ViewProps & { left: RenderResult | null; right: RenderResult | null }) {
  const { state, update, nowMs } = props;
  const units = unitsOfProfileType(state.profileType);
  const l = rangeMs(state.from, state.until, nowMs);
  const r = rangeMs(state.rightFrom, state.rightUntil, nowMs);
  const leftSeries = useMemo(() => singleSeries(props.left, 'baseline', SERIES_COLORS[1]!), [props.left]);
  const rightSeries = useMemo(
    () => singleSeries(props.right, 'comparison', SERIES_COLORS[0]!),
    [props.right],
  );
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
                update({ from: s.from, until: s.until, query: state.rightQuery });
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
          series={leftSeries}
          units={units}
          onQuery={(query) => update({ query })}
          onRange={(from, until) => update({ from, until })}
        />
        <SelectionSide
          side="right"
          title="Comparison"
          state={state}
          query={state.rightQuery}
          from={state.rightFrom}
          until={state.rightUntil}
          range={r}
          series={rightSeries}
          units={units}
          onQuery={(rightQuery) => update({ rightQuery })}
          onRange={(rightFrom, rightUntil) => update({ rightFrom, rightUntil })}
        />
      </div>
    </>
  );
}

/** One side of a comparison: its label selector, time range and timeline. */
function SelectionSide(props: {
  side: 'left' | 'right';
  title: string;
  state: UiState;
  query: string;
  from: string;
  until: string;
  range: { fromMs: number; untilMs: number };
  series: TimelineSeries[];
  units: ReturnType<typeof unitsOfProfileType>;
  onQuery: (query: string) => void;
  onRange: (from: string, until: string) => void;
}) {
  const { side, state } = props;
  return (
    <div className="side" data-testid={`side-${side}`}>
      <h3>{props.title}</h3>
      <LabelSelector
        id={side}
        service={state.service}
        query={props.query}
        fromMs={props.range.fromMs}
        untilMs={props.range.untilMs}
        onChange={props.onQuery}
      />
      <TimePicker id={side} from={props.from} until={props.until} onChange={props.onRange} />
      {props.series.length > 0 && (
        <Timeline
          theme={state.theme}
          series={props.series}
          units={props.units}
          fromMs={props.range.fromMs}
          untilMs={props.range.untilMs}
          testId={`timeline-${side}`}
          onSelect={(f, u) => props.onRange(String(f), String(u))}
        />
      )}
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
      <Sides {...props} left={left.data} right={right.data} />
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
  const left = useRender(state, state.query, state.from, state.until, nowMs, '', 1);
  const right = useRender(state, state.rightQuery, state.rightFrom, state.rightUntil, nowMs, '', 1);
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
      <Sides {...props} left={left.data} right={right.data} />
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
