// The app shell: URL state (pushState on change, popstate on back/forward), navigation, theme,
// the service list and the empty state. Views get the state and an `update` to change it.
import { useCallback, useEffect, useState } from 'react';
import { listServices } from './api.ts';
import { AdhocView } from './components/Adhoc.tsx';
import { ErrorBox, Loading, NoData, useAsync } from './components/common.tsx';
import { ComparisonView, DiffView, ExploreView, SingleView } from './components/views.tsx';
import { VIEW_PATHS, formatState, parseState, type UiState, type ViewName } from './state.ts';

function readUrl(): UiState {
  return parseState(location.pathname, location.search);
}

const TABS: readonly [ViewName, string][] = [
  ['single', 'Single view'],
  ['explore', 'Tag explorer'],
  ['comparison', 'Comparison'],
  ['diff', 'Diff'],
  ['adhoc', 'Upload'],
];

export function App() {
  const [state, setState] = useState<UiState>(readUrl);
  const [nowMs, setNowMs] = useState(() => Date.now());
  useEffect(() => {
    const onPop = () => setState(readUrl());
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);
  const update = useCallback((patch: Partial<UiState>, replace = false) => {
    setState((prev) => {
      const next = { ...prev, ...patch };
      const url = formatState(next);
      if (url !== location.pathname + location.search) {
        if (replace) history.replaceState(null, '', url);
        else history.pushState(null, '', url);
      }
      return next;
    });
  }, []);
  useEffect(() => {
    document.documentElement.dataset['theme'] = state.theme;
  }, [state.theme]);

  // Services seen over the last 7 days (the longest range the server accepts), refreshed with "now".
  const services = useAsync(`services-${nowMs}`, (signal) =>
    listServices(nowMs - 7 * 86_400_000 + 60_000, nowMs + 60_000, signal),
  );
  const map = services.data;
  // Default to the first service and its first profile type when the URL names none (or an unknown one).
  useEffect(() => {
    if (!map || map.size === 0) return;
    const svc = map.has(state.service) ? state.service : [...map.keys()][0]!;
    const types = map.get(svc) ?? [];
    const type = types.includes(state.profileType) ? state.profileType : (types[0] ?? '');
    if (svc !== state.service || type !== state.profileType)
      update({ service: svc, profileType: type }, true);
  }, [map, state.service, state.profileType, update]);

  const viewProps = { state, update, services: map ?? new Map<string, string[]>(), nowMs };
  let body;
  if (state.view === 'adhoc') body = <AdhocView {...viewProps} />;
  else if (services.error) body = <ErrorBox error={services.error} what="the list of applications" />;
  else if (!map) body = <Loading />;
  else if (map.size === 0) body = <NoData />;
  else if (!state.service || !state.profileType) body = <Loading />;
  else if (state.view === 'explore') body = <ExploreView {...viewProps} />;
  else if (state.view === 'comparison') body = <ComparisonView {...viewProps} />;
  else if (state.view === 'diff') body = <DiffView {...viewProps} />;
  else body = <SingleView {...viewProps} />;

  return (
    <div className="app">
      <header className="top">
        <a
          className="brand"
          href="/"
          onClick={(e) => {
            e.preventDefault();
            update({ view: 'single' });
          }}
        >
          Hotpath
        </a>
        <nav className="tabs">
          {TABS.map(([v, label]) => (
            <a
              key={v}
              href={VIEW_PATHS[v]}
              className={state.view === v ? 'on' : ''}
              aria-current={state.view === v ? 'page' : undefined}
              onClick={(e) => {
                e.preventDefault();
                update({ view: v, focus: '' });
              }}
            >
              {label}
            </a>
          ))}
        </nav>
        <span className="spacer" />
        <button onClick={() => setNowMs(Date.now())} title="Reload data (relative times move to now)">
          Refresh
        </button>
        <button
          onClick={() => update({ theme: state.theme === 'dark' ? 'light' : 'dark' })}
          aria-label="Toggle theme"
        >
          {state.theme === 'dark' ? 'Light theme' : 'Dark theme'}
        </button>
      </header>
      <main>{body}</main>
    </div>
  );
}
