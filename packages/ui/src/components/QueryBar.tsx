// The query bar of the single, tag explorer and spans views: application and profile type, label
// filters and time range, with room for a view's own controls between the filters and the range.
import type { ReactNode } from 'react';
import type { UiState } from '../state.ts';
import { LabelSelector, ServicePicker, TimePicker } from './common.tsx';

export function QueryBar(props: {
  readonly services: ReadonlyMap<string, readonly string[]>;
  readonly state: UiState;
  readonly update: (patch: Partial<UiState>) => void;
  /** The selection's range, resolved (label value autocomplete looks there). */
  readonly fromMs: number;
  readonly untilMs: number;
  /** Before the label filters (the tag explorer's "Group by"). */
  readonly beforeFilters?: ReactNode;
  /** After the label filters, before the time range (chips of what else narrows the view). */
  readonly afterFilters?: ReactNode;
  /** After the time range (the spans view's id box). */
  readonly children?: ReactNode;
}) {
  const { state, update } = props;
  return (
    <div className="querybar" data-testid="querybar">
      <ServicePicker services={props.services} state={state} update={update} />
      {props.beforeFilters}
      <LabelSelector
        id="main"
        service={state.service}
        query={state.query}
        fromMs={props.fromMs}
        untilMs={props.untilMs}
        onChange={(query) => update({ query, focus: '' })}
      />
      {props.afterFilters}
      {/* A new range starts afresh: no wider timeline view kept from a drag. */}
      <TimePicker
        id="main"
        from={state.from}
        until={state.until}
        onChange={(from, until) => update({ from, until, timelineFrom: '', timelineUntil: '' })}
      />
      {props.children}
    </div>
  );
}
