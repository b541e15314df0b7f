// The "What changed?" panel beside the flame graph: one action asks the server (ChangesService) about
// the selection against a baseline and lists the ranked findings, each with links that open the
// comparison and diff views on exactly the selectors and ranges behind it.
import { useState } from 'react';
import { whatChanged, type ChangeSide, type WhatChangedAnswer } from '../api.ts';
import {
  formatMatchers,
  formatState,
  parseMatchers,
  selectorOf,
  type UiState,
  type ViewName,
} from '../state.ts';
import { formatPercent, formatValue, unitsOfProfileType, type Units } from '../format.ts';
import { ErrorBox, rangeMs } from './common.tsx';

type Finding = NonNullable<WhatChangedAnswer['findings']>[number];

/** A finding's numbers: the share (or cost) before → after, what the two sides are, the samples. */
export interface FindingShares {
  readonly before: string;
  readonly after: string;
  /** What "before" and "after" are, e.g. `baseline → selection`, `other region values → eu-north`. */
  readonly sides: string;
  /** Sample counts behind the shares, so noise is visible ('' when the answer has none). */
  readonly samples: string;
}

/** Findings listed before "more findings" (the answer ranks them: the first few carry the story). */
const SHOWN_FIRST = 5;

const KIND_TEXT: Readonly<Record<string, string>> = {
  changed: 'changed',
  outlier: 'stands out',
  periods: 'slow periods',
};

/** The numbers behind a finding, from the answer's detail lists (null when it has none). */
export function sharesOf(f: Finding, a: WhatChangedAnswer, units: Units): FindingShares | null {
  const same = (x: { label: string; value: string; function: string }) =>
    x.label === f.label && x.value === f.value && x.function === f.function;
  if (f.kind === 'changed' && f.function === '') {
    const t = a.totalChange;
    if (!t) return null;
    return {
      before: formatValue(t.baseValue ?? 0, units),
      after: formatValue(t.headValue ?? 0, units),
      sides: 'whole cost, baseline → selection',
      samples: '',
    };
  }
  if (f.kind === 'changed') {
    const c = [...(a.grew ?? []), ...(a.shrank ?? [])].find((x) => x.name === f.function);
    if (!c) return null;
    return {
      before: formatPercent(c.baseTotalShare ?? 0),
      after: formatPercent(c.headTotalShare ?? 0),
      sides: 'of the total, baseline → selection',
      samples: `${Math.round(c.baseSamples ?? 0)} → ${Math.round(c.headSamples ?? 0)} samples`,
    };
  }
  const o = (a.outliers ?? []).find(same);
  const p = (a.periods ?? []).find(same);
  if (f.kind === 'periods' && p)
    return {
      before: formatPercent(p.fastShare ?? 0),
      after: formatPercent(p.slowShare ?? 0),
      sides: `of ${f.label}=${f.value}, its fast periods → its slow ones`,
      samples: o ? `${Math.round(o.samples ?? 0)} samples` : '',
    };
  if (!o) return null;
  return {
    before: formatPercent(o.othersShare ?? 0),
    after: formatPercent(o.valueShare ?? 0),
    sides: `other ${f.label} values → ${f.label}=${f.value}`,
    samples: `${Math.round(o.samples ?? 0)} samples`,
  };
}

const BASELINES = [
  { value: 'previous', label: 'the period before' },
  { value: '1d', label: 'a day earlier' },
  { value: '1w', label: 'a week earlier' },
  { value: '', label: 'no baseline (within the range)' },
] as const;

/** The UI state of a comparison or diff view on a finding's two sides. */
export function findingState(state: UiState, view: ViewName, left: ChangeSide, right: ChangeSide): UiState {
  // The service is the state's own: the sides' selectors carry it, the views add it back.
  const extra = (s: ChangeSide) =>
    formatMatchers(parseMatchers(s.labelSelector).filter((m) => m.name !== 'service_name'));
  return {
    ...state,
    view,
    query: extra(left),
    from: left.start,
    until: left.end,
    rightQuery: extra(right),
    rightFrom: right.start,
    rightUntil: right.end,
    timelineFrom: '',
    timelineUntil: '',
    focus: '',
    search: '',
  };
}

export function Changes(props: {
  readonly state: UiState;
  readonly update: (patch: Partial<UiState>, replace?: boolean) => void;
  readonly nowMs: number;
}) {
  const { state, update, nowMs } = props;
  const [baseline, setBaseline] = useState<string>('previous');
  const [answer, setAnswer] = useState<WhatChangedAnswer | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);
  const [all, setAll] = useState(false);
  if (state.service === '' || state.profileType === '') return null;

  const ask = async () => {
    setBusy(true);
    setError(null);
    setAll(false);
    try {
      const { fromMs, untilMs } = rangeMs(state.from, state.until, nowMs);
      setAnswer(
        await whatChanged({
          profileType: state.profileType,
          selector: selectorOf(state.service, state.query),
          fromMs,
          untilMs,
          baseline,
        }),
      );
    } catch (e) {
      setError(e as Error);
      setAnswer(null);
    } finally {
      setBusy(false);
    }
  };

  const link = (view: ViewName, f: Finding, text: string) => {
    const next = findingState(state, view, f.left, f.right);
    return (
      <a
        href={formatState(next)}
        data-testid={`changes-${view}-link`}
        onClick={(e) => {
          e.preventDefault();
          update(next);
        }}
      >
        {text}
      </a>
    );
  };

  const findings = answer?.findings ?? [];
  const units = unitsOfProfileType(state.profileType);
  return (
    <section className="changes-panel" data-testid="changes-panel" aria-label="What changed?">
      <div className="changes-bar">
        <h3 className="changes-title">What changed?</h3>
        <button onClick={() => void ask()} disabled={busy} data-testid="changes-run">
          {busy ? 'Looking…' : 'Find out'}
        </button>
        <label className="field">
          <span>against</span>
          <select
            value={baseline}
            onChange={(e) => setBaseline(e.target.value)}
            data-testid="changes-baseline"
          >
            {BASELINES.map((b) => (
              <option key={b.value} value={b.value}>
                {b.label}
              </option>
            ))}
          </select>
        </label>
      </div>
      {error && <ErrorBox error={error} what="what changed" />}
      {answer && (
        <>
          {answer.baselineEmpty && (
            <p className="hint" data-testid="changes-baseline-empty">
              The baseline holds no data: nothing was compared with it.
            </p>
          )}
          {answer.coverageWarning && (
            <p className="hint" data-testid="changes-coverage">
              Coverage: {answer.coverageWarning}.
            </p>
          )}
          {findings.length === 0 ? (
            <p className="hint" data-testid="changes-none">
              Nothing changed past the thresholds.
            </p>
          ) : (
            <ol className="changes-findings">
              {findings.slice(0, all ? findings.length : SHOWN_FIRST).map((f, i) => {
                const shares = sharesOf(f, answer, units);
                return (
                  <li key={i} className="changes-finding" data-testid="changes-finding" data-kind={f.kind}>
                    <span className="changes-rank">{i + 1}</span>
                    <div className="changes-main">
                      <div className="changes-head">
                        <span className={`changes-kind ${f.kind}`}>{KIND_TEXT[f.kind] ?? f.kind}</span>
                        {f.function !== '' && <code className="changes-function">{f.function}</code>}
                        {f.label && (
                          <span className="chip changes-label" title="The label value carrying it">
                            {f.label}={f.value}
                          </span>
                        )}
                      </div>
                      {shares && (
                        <div className="changes-shares" data-testid="changes-shares">
                          <strong>{shares.before}</strong> → <strong>{shares.after}</strong>{' '}
                          <span className="muted">
                            {shares.sides}
                            {shares.samples && ` · ${shares.samples}`}
                          </span>
                        </div>
                      )}
                      <div className="changes-text">{f.text}</div>
                    </div>
                    <div className="changes-links">
                      {link('comparison', f, 'compare')}
                      {link('diff', f, 'diff')}
                    </div>
                  </li>
                );
              })}
            </ol>
          )}
          {!all && findings.length > SHOWN_FIRST && (
            <button className="link changes-more" onClick={() => setAll(true)}>
              {findings.length - SHOWN_FIRST} more findings
            </button>
          )}
          <p className="changes-thresholds hint">
            Reported past z ≥ {answer.minZ}, a share change ≥ {(answer.minShareDelta * 100).toFixed(1)} points
            and ≥ {answer.minSamples} samples; labels examined: {(answer.labels ?? []).join(', ') || 'none'}.
          </p>
        </>
      )}
    </section>
  );
}
