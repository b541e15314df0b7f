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
import { ErrorBox, rangeMs } from './common.tsx';

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
  if (state.service === '' || state.profileType === '') return null;

  const ask = async () => {
    setBusy(true);
    setError(null);
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

  const link = (view: ViewName, f: NonNullable<WhatChangedAnswer['findings']>[number], text: string) => {
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
  return (
    <section className="changes-panel" data-testid="changes-panel" aria-label="What changed?">
      <div className="changes-bar">
        <button onClick={() => void ask()} disabled={busy} data-testid="changes-run">
          {busy ? 'Looking…' : 'What changed?'}
        </button>{' '}
        <label>
          against{' '}
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
            <p data-testid="changes-baseline-empty">
              The baseline holds no data: nothing was compared with it.
            </p>
          )}
          {findings.length === 0 ? (
            <p data-testid="changes-none">Nothing changed past the thresholds.</p>
          ) : (
            <ol className="changes-findings">
              {findings.slice(0, 10).map((f, i) => (
                <li key={i} data-testid="changes-finding" data-kind={f.kind}>
                  <span>{f.text}</span> {link('comparison', f, 'compare')} · {link('diff', f, 'diff')}
                </li>
              ))}
            </ol>
          )}
          <p className="changes-thresholds">
            Reported past z ≥ {answer.minZ}, a share change ≥ {(answer.minShareDelta * 100).toFixed(1)} points
            and ≥ {answer.minSamples} samples; labels examined: {(answer.labels ?? []).join(', ') || 'none'}.
          </p>
        </>
      )}
    </section>
  );
}
