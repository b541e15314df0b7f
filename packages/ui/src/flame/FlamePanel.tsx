// A flame graph with its toolbar (search, display mode, invert, collapse, export), breadcrumb of the
// focused node, top table and sandwich view. Search, focus and modes come from the URL state.
import { useMemo, useRef, useState } from 'react';
import { FlameGraph } from './FlameGraph.tsx';
import { TopTable } from './TopTable.tsx';
import { diffLegend } from './colors.ts';
import { exportFileName, exportFlamebearer, exportFolded, exportPprof, exportSpeedscope } from './exports.ts';
import { collapseRecursion, sandwich, searchTree } from './transforms.ts';
import { findNodeByPath, nodeName, nodePath, type FlameTree, type NodeIndex } from './tree.ts';
import { downloadBlob, downloadText } from '../download.ts';
import { formatPercent, formatValue, type Units } from '../format.ts';
import { selectorOf, type Display, type UiState } from '../state.ts';
import { TrackFunctionDialog } from '../components/Rules.tsx';

export interface FlamePanelProps {
  readonly tree: FlameTree;
  readonly units: Units;
  readonly profileTypeId: string;
  readonly state: UiState;
  readonly update: (patch: Partial<UiState>, replace?: boolean) => void;
  /** Distinguishes panels in tests and exports (e.g. "left", "right", "diff"). */
  readonly label?: string;
  readonly title?: string;
  /**
   * The complete profile behind the graph as gzip pprof (stored data: the server's merge, not cut to
   * the node budget). Without it the pprof export is built from the tree on screen (uploads, diffs).
   */
  readonly fullPprof?: () => Promise<Uint8Array>;
}

export function FlamePanel(props: FlamePanelProps) {
  const { state, update, units } = props;
  const panelRef = useRef<HTMLDivElement>(null);
  const [exportStatus, setExportStatus] = useState('');
  // "Track this function": the single view's stored data only (not diffs, uploads or spans).
  const [track, setTrack] = useState('');
  const trackable =
    state.view === 'single' && state.spanSelector === '' && !props.tree.diff && state.service !== '';
  const tree = useMemo(
    () => (state.collapse ? collapseRecursion(props.tree) : props.tree),
    [props.tree, state.collapse],
  );
  const search = useMemo(() => searchTree(tree, state.search), [tree, state.search]);
  const focusPath = state.focus === '' ? [] : state.focus.split(';');
  const focus = Math.max(0, findNodeByPath(tree, focusPath));
  const sw = useMemo(
    () => (state.display === 'sandwich' && state.sandwich ? sandwich(tree, state.sandwich) : null),
    [tree, state.display, state.sandwich],
  );
  const matched = state.search.trim() ? search.matched : null;
  const onFocus = (node: NodeIndex) => update({ focus: node <= 0 ? '' : nodePath(tree, node).join(';') });
  const onSandwich = (name: string) => update({ display: 'sandwich', sandwich: name });
  const graph = (t: FlameTree, f: NodeIndex, inverted: boolean, label: string, focusable: boolean) => (
    <FlameGraph
      tree={t}
      units={units}
      theme={state.theme}
      diffMode={state.diffMode}
      inverted={inverted}
      matched={matched && t === tree ? matched : t === tree ? null : searchOrNull(t, state.search)}
      focus={f}
      onFocus={focusable ? onFocus : () => undefined}
      onSandwich={onSandwich}
      {...(trackable ? { onTrack: setTrack } : {})}
      label={label}
    />
  );
  const doExport = (kind: string) => {
    const name = props.label ? `flamegraph_${props.label}` : 'flamegraph';
    const unit = units.unit;
    switch (kind) {
      case 'png': {
        const canvas = panelRef.current?.querySelector('canvas');
        canvas?.toBlob((b) => b && downloadBlob(b, exportFileName(name, 'png')), 'image/png');
        break;
      }
      case 'pprof': {
        const save = (bytes: Uint8Array) =>
          downloadBlob(
            new Blob([bytes as BlobPart], { type: 'application/octet-stream' }),
            exportFileName(name, 'pb.gz'),
          );
        if (!props.fullPprof) {
          save(exportPprof(tree, props.profileTypeId));
          break;
        }
        setExportStatus('Exporting pprof…');
        props.fullPprof().then(
          (bytes) => {
            setExportStatus('');
            save(bytes);
          },
          (e: unknown) => setExportStatus(`pprof export failed: ${(e as Error).message}`),
        );
        break;
      }
      case 'folded':
        downloadText(exportFolded(tree), exportFileName(name, 'folded.txt'), 'text/plain');
        break;
      case 'speedscope':
        downloadText(exportSpeedscope(tree, name, unit), exportFileName(name, 'speedscope.json'));
        break;
      case 'flamebearer':
        downloadText(exportFlamebearer(tree, name, unit), exportFileName(name, 'json'));
        break;
    }
  };
  const crumbs: NodeIndex[] = [];
  for (let n = focus; n >= 0; n = tree.parent[n]!) crumbs.unshift(n);
  const display: Display = state.display;
  return (
    <section
      className="flame-panel"
      ref={panelRef}
      data-testid={props.label ? `panel-${props.label}` : 'panel'}
    >
      {props.title && <h3 className="panel-title">{props.title}</h3>}
      <div className="toolbar">
        <input
          type="search"
          className="search"
          placeholder="Search functions (text or /regex/)"
          aria-label="Search"
          value={state.search}
          onChange={(e) => update({ search: e.target.value }, true)}
        />
        {state.search.trim() !== '' && (
          <span className="search-summary" data-testid="search-summary">
            {search.matchCount} matches, {formatPercent(search.share)} of total
          </span>
        )}
        <div className="segmented" role="radiogroup" aria-label="View">
          {(['both', 'flame', 'table', 'sandwich'] as const).map((d) => (
            <button
              key={d}
              role="radio"
              aria-checked={display === d}
              className={display === d ? 'on' : ''}
              onClick={() => update({ display: d })}
            >
              {{ both: 'Both', flame: 'Flame graph', table: 'Top table', sandwich: 'Sandwich' }[d]}
            </button>
          ))}
        </div>
        <label className="check">
          <input
            type="checkbox"
            checked={state.inverted}
            onChange={(e) => update({ inverted: e.target.checked })}
          />{' '}
          Flame (root at bottom)
        </label>
        <label className="check">
          <input
            type="checkbox"
            checked={state.collapse}
            onChange={(e) => update({ collapse: e.target.checked, focus: '' })}
          />{' '}
          Collapse recursion
        </label>
        {tree.diff && (
          <select
            aria-label="Diff mode"
            value={state.diffMode}
            onChange={(e) => update({ diffMode: e.target.value as UiState['diffMode'] })}
          >
            <option value="relative">Relative change</option>
            <option value="absolute">Absolute change</option>
          </select>
        )}
        <select aria-label="Export" value="" onChange={(e) => doExport(e.target.value)}>
          <option value="">Export…</option>
          <option value="png">PNG image</option>
          <option value="pprof">pprof (.pb.gz)</option>
          <option value="folded">Folded text</option>
          <option value="speedscope">Speedscope JSON</option>
          <option value="flamebearer">Flamebearer JSON</option>
        </select>
        {exportStatus && (
          <span className="muted" role="status" data-testid="export-status">
            {exportStatus}
          </span>
        )}
      </div>
      <nav className="breadcrumb" aria-label="Focus">
        {crumbs.map((n, k) => (
          <span key={n}>
            {k > 0 && ' › '}
            <button className="link" onClick={() => onFocus(n)} disabled={n === focus}>
              {n === 0 ? 'all' : nodeName(tree, n)}
            </button>
          </span>
        ))}
        {focus > 0 && (
          <button className="reset" onClick={() => onFocus(0)}>
            Reset focus
          </button>
        )}
        <span className="muted total">
          total {formatValue(tree.numTicks, units)}
          {tree.diff
            ? ` (baseline ${formatValue(tree.diff.leftTicks, units)}, comparison ${formatValue(tree.diff.rightTicks, units)})`
            : ''}
        </span>
      </nav>
      {tree.diff && <DiffLegend theme={state.theme} mode={state.diffMode} />}
      {track !== '' && (
        <TrackFunctionDialog
          functionName={track}
          service={state.service}
          selector={selectorOf(state.service, state.query)}
          profileType={props.profileTypeId}
          onClose={() => setTrack('')}
          onShowRules={() => update({ view: 'rules' })}
        />
      )}
      {tree.numTicks === 0 ? (
        <p className="empty">No samples in this selection.</p>
      ) : display === 'sandwich' ? (
        sw ? (
          <div className="sandwich">
            <div className="muted">Callers of {state.sandwich}</div>
            {graph(sw.callers, 0, true, `${props.label ?? 'main'}-callers`, false)}
            <div className="muted">Callees of {state.sandwich}</div>
            {graph(sw.callees, 0, false, `${props.label ?? 'main'}-callees`, false)}
          </div>
        ) : (
          <p className="empty">
            Pick a function: right-click a block and choose “Open in sandwich view”, or click a row of the top
            table.
          </p>
        )
      ) : (
        <div className={`flame-body ${display}`}>
          {(display === 'both' || display === 'table') && (
            <TopTable
              tree={tree}
              units={units}
              search={state.search}
              onPick={(name) =>
                display === 'table'
                  ? update({ display: 'sandwich', sandwich: name })
                  : update({ search: name }, true)
              }
            />
          )}
          {(display === 'both' || display === 'flame') &&
            graph(tree, focus, state.inverted, props.label ?? 'main', true)}
        </div>
      )}
    </section>
  );
}

function searchOrNull(t: FlameTree, q: string): Uint8Array | null {
  return q.trim() ? searchTree(t, q).matched : null;
}

function DiffLegend(props: { theme: UiState['theme']; mode: UiState['diffMode'] }) {
  const stops = diffLegend(props.theme);
  return (
    <div className="diff-legend" data-testid="diff-legend">
      <span>{props.mode === 'relative' ? '−100%' : 'largest decrease'}</span>
      {stops.map((s) => (
        <span key={s.intensity} className="swatch" style={{ background: s.color }} />
      ))}
      <span>{props.mode === 'relative' ? '+100%' : 'largest increase'}</span>
      <span className="muted"> red: more time in the comparison (slower), green: less (faster)</span>
    </div>
  );
}
