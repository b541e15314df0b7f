// Recording rules (metrics from profiles): "Track this function" from a flame graph node opens a dialog
// pre-filled with the view's selector, profile type and the function; the Rules view lists the
// tenant's rules and deletes them. Both speak settings.v1.RecordingRulesService (Connect JSON).
import { useState } from 'react';
import { connectJson } from '../api.ts';
import { ErrorBox, Loading, useAsync } from './common.tsx';
import type { ViewProps } from './views.tsx';

/** A rule as the service answers it (protojson: generation as a string, empty fields left out). */
export interface RecordingRule {
  readonly id: string;
  readonly metricName: string;
  readonly profileType?: string;
  readonly matchers?: readonly string[];
  readonly groupBy?: readonly string[];
  readonly generation?: string;
  readonly stacktraceFilter?: { readonly functionName?: { readonly functionName?: string } };
}

function callRules<T>(method: string, body: unknown, signal?: AbortSignal): Promise<T> {
  return connectJson<T>(`/settings.v1.RecordingRulesService/${method}`, body, signal);
}

export async function listRules(signal?: AbortSignal): Promise<RecordingRule[]> {
  return [...((await callRules<{ rules?: RecordingRule[] }>('ListRecordingRules', {}, signal)).rules ?? [])];
}

/**
 * A Prometheus metric name for a function's rule: `<service>_<function>_<sample type>`, every other
 * character an underscore, e.g. `ride_sharing_app_find_nearest_vehicle_cpu`.
 */
export function suggestMetricName(service: string, functionName: string, profileType: string): string {
  // Python frames read `module.function` or `function (file.py:12)`: keep the function's own name.
  const fn =
    functionName
      .replace(/\s*\(.*\)$/, '')
      .split(/[.:/]/)
      .pop() ?? functionName;
  const sampleType = profileType.split(':')[1] ?? '';
  const name = [service, fn, sampleType]
    .filter((s) => s !== '')
    .join('_')
    .replace(/[^a-zA-Z0-9_]+/g, '_')
    .replace(/_+/g, '_')
    .replace(/^_|_$/g, '');
  return /^[a-zA-Z_]/.test(name) ? name : `p_${name}`;
}

export interface TrackProps {
  readonly functionName: string;
  readonly service: string;
  /** The view's label selector, service included: `{service_name="app",region="eu-north"}`. */
  readonly selector: string;
  readonly profileType: string;
  readonly onClose: () => void;
  /** Opens the Rules view. */
  readonly onShowRules: () => void;
}

/** The "Track this function" dialog: a rule pre-filled from the flame graph node and the view. */
export function TrackFunctionDialog(props: TrackProps) {
  const [metricName, setMetricName] = useState(() =>
    suggestMetricName(props.service, props.functionName, props.profileType),
  );
  const [groupBy, setGroupBy] = useState('');
  const [status, setStatus] = useState<{ busy: boolean; error?: string; created?: RecordingRule }>({
    busy: false,
  });
  const create = async () => {
    setStatus({ busy: true });
    try {
      const { rule } = await callRules<{ rule: RecordingRule }>('UpsertRecordingRule', {
        metricName: metricName.trim(),
        matchers: [props.selector, `{__profile_type__="${props.profileType}"}`],
        groupBy: groupBy
          .split(',')
          .map((g) => g.trim())
          .filter((g) => g !== ''),
        stacktraceFilter: { functionName: { functionName: props.functionName, metricType: 'TOTAL' } },
      });
      setStatus({ busy: false, created: rule });
    } catch (e) {
      setStatus({ busy: false, error: (e as Error).message });
    }
  };
  const created = status.created;
  return (
    <div className="overlay">
      <form
        className="dialog"
        role="dialog"
        aria-modal="true"
        aria-labelledby="track-title"
        data-testid="track-dialog"
        onSubmit={(e) => {
          e.preventDefault();
          if (!status.busy && !created) void create();
        }}
      >
        <h2 id="track-title">Track this function</h2>
        <p>
          A recording rule counts the <strong>total</strong> of <code>{props.functionName}</code> in{' '}
          <code>{props.selector}</code> ({props.profileType}) as profiles arrive; Prometheus scrapes it from{' '}
          <code>/metrics</code>.
        </p>
        <label>
          Metric name
          <input
            aria-label="Metric name"
            value={metricName}
            onChange={(e) => setMetricName(e.target.value)}
            disabled={created !== undefined}
          />
        </label>
        <label>
          Group by (labels, comma-separated)
          <input
            aria-label="Group by"
            placeholder="region"
            value={groupBy}
            onChange={(e) => setGroupBy(e.target.value)}
            disabled={created !== undefined}
          />
        </label>
        {status.error && (
          <p className="error" role="alert">
            {status.error}
          </p>
        )}
        {created && (
          <p role="status" data-testid="track-created">
            Rule {created.id} created: <code>{created.metricName}</code> on <code>/metrics</code>.{' '}
            <button type="button" className="link" onClick={props.onShowRules}>
              See all rules
            </button>
          </p>
        )}
        <div className="dialog-buttons">
          {!created && (
            <button type="submit" disabled={status.busy || metricName.trim() === ''}>
              Create rule
            </button>
          )}
          <button type="button" onClick={props.onClose}>
            {created ? 'Close' : 'Cancel'}
          </button>
        </div>
      </form>
    </div>
  );
}

/** The Rules view: the tenant's recording rules, each deletable. */
export function RulesView(props: ViewProps) {
  const [generation, setGeneration] = useState(0);
  const [deleteError, setDeleteError] = useState('');
  const rules = useAsync(`rules-${generation}-${props.nowMs}`, (signal) => listRules(signal));
  const remove = async (id: string) => {
    setDeleteError('');
    try {
      await callRules('DeleteRecordingRule', { id });
    } catch (e) {
      setDeleteError((e as Error).message);
    }
    setGeneration((g) => g + 1);
  };
  if (rules.error) return <ErrorBox error={rules.error} what="the recording rules" />;
  if (!rules.data) return <Loading />;
  return (
    <section className="rules" data-testid="rules">
      <h2>Recording rules</h2>
      <p className="muted">
        Each rule is a Prometheus counter on <code>/metrics</code>, counted as profiles arrive. Create one
        from a flame graph: right-click a block, “Track this function”.
      </p>
      {deleteError && (
        <p className="error" role="alert">
          {deleteError}
        </p>
      )}
      {rules.data.length === 0 ? (
        <p className="empty">No recording rules yet.</p>
      ) : (
        <table className="rules-table">
          <thead>
            <tr>
              <th>Metric</th>
              <th>Selector</th>
              <th>Profile type</th>
              <th>Function</th>
              <th>Group by</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {rules.data.map((r) => (
              <tr key={r.id} data-rule-id={r.id}>
                <td>
                  <code>{r.metricName}</code>
                </td>
                <td>
                  <code>{(r.matchers ?? []).filter((m) => !m.includes('__profile_type__')).join(' ')}</code>
                </td>
                <td>{r.profileType}</td>
                <td>{r.stacktraceFilter?.functionName?.functionName ?? '(all)'}</td>
                <td>{(r.groupBy ?? []).join(', ')}</td>
                <td>
                  <button onClick={() => void remove(r.id)} aria-label={`Delete rule ${r.metricName}`}>
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
