// The top table: one row per function with self and total (diff: baseline, comparison, change); sortable.
import { useMemo, useState } from 'react';
import { sortTopTable, topTable, type SortKey } from './transforms.ts';
import type { FlameTree } from './tree.ts';
import { formatPercent, formatSignedPercent, formatValue, type Units } from '../format.ts';

const MAX_ROWS = 400;

export function TopTable(props: {
  readonly tree: FlameTree;
  readonly units: Units;
  readonly search: string;
  readonly onPick: (name: string) => void;
}) {
  const { tree, units } = props;
  const diff = tree.diff;
  const [sort, setSort] = useState<{ key: SortKey; desc: boolean }>({
    key: diff ? 'diff' : 'self',
    desc: true,
  });
  const rows = useMemo(() => topTable(tree), [tree]);
  const sorted = useMemo(
    () => sortTopTable(rows, sort.key, sort.desc, tree).slice(0, MAX_ROWS),
    [rows, sort, tree],
  );
  const root = tree.numTicks || 1;
  const header = (key: SortKey, label: string) => (
    <th
      className={`sortable${sort.key === key ? ' sorted' : ''}`}
      aria-sort={sort.key === key ? (sort.desc ? 'descending' : 'ascending') : 'none'}
      onClick={() => setSort((s) => ({ key, desc: s.key === key ? !s.desc : key !== 'name' }))}
    >
      {label}
      {sort.key === key ? (sort.desc ? ' ▼' : ' ▲') : ''}
    </th>
  );
  const q = props.search.toLowerCase();
  return (
    <div className="top-table-wrap">
      <table className="top-table" data-testid="top-table">
        <thead>
          <tr>
            {header('name', 'Location')}
            {diff ? (
              <>
                {header('selfLeft', 'Baseline self')}
                {header('selfRight', 'Comparison self')}
                {header('diff', 'Diff (total share)')}
              </>
            ) : (
              <>
                {header('self', 'Self')}
                {header('total', 'Total')}
              </>
            )}
          </tr>
        </thead>
        <tbody>
          {sorted.map((r) => {
            const hit = q !== '' && r.name.toLowerCase().includes(q);
            if (diff) {
              const l = r.totalLeft / (diff.leftTicks || 1);
              const rr = r.totalRight / (diff.rightTicks || 1);
              const change = rr - l;
              return (
                <tr key={r.name} className={hit ? 'hit' : ''} onClick={() => props.onPick(r.name)}>
                  <td className="name" title={r.name}>
                    {r.name}
                  </td>
                  <td>{formatValue(r.selfLeft, units)}</td>
                  <td>{formatValue(r.selfRight, units)}</td>
                  <td className={change > 0 ? 'worse' : change < 0 ? 'better' : ''}>
                    {formatSignedPercent(change)}
                  </td>
                </tr>
              );
            }
            return (
              <tr key={r.name} className={hit ? 'hit' : ''} onClick={() => props.onPick(r.name)}>
                <td className="name" title={r.name}>
                  {r.name}
                </td>
                <td>
                  {formatValue(r.self, units)} <span className="share">{formatPercent(r.self / root)}</span>
                </td>
                <td>
                  {formatValue(r.total, units)} <span className="share">{formatPercent(r.total / root)}</span>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {rows.length > MAX_ROWS && (
        <p className="muted">
          Showing the first {MAX_ROWS} of {rows.length} functions.
        </p>
      )}
    </div>
  );
}
