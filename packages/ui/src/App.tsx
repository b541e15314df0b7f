// The app shell: URL state (pushState on change, popstate on back/forward), navigation, theme,
// the service list and the empty state. Views get the state and an `update` to change it.
import { useCallback, useEffect, useState } from 'react';
import { listServices } from './api.ts';
import { clearApiKey, getApiKey, onUnauthenticated, setApiKey } from './auth.ts';
import { AdhocView } from './components/Adhoc.tsx';
import { ErrorBox, Loading, NoData, useAsync } from './components/common.tsx';
import { ComparisonView, DiffView, ExploreView, SingleView } from './components/views.tsx';
import { SpansView } from './components/Spans.tsx';
import { RulesView } from './components/Rules.tsx';
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
  ['spans', 'Spans'],
  ['rules', 'Rules'],
];

export function App() {
  const [state, setState] = useState<UiState>(readUrl);
  const [nowMs, setNowMs] = useState(() => Date.now());
  // Which key the data on screen was loaded with: a new key remounts the views so they load again.
  const [keyGeneration, setKeyGeneration] = useState(0);
  const [auth, setAuth] = useState<AuthPrompt>('none');
  useEffect(() => onUnauthenticated(() => setAuth(getApiKey() === '' ? 'needed' : 'rejected')), []);
  const applyKey = useCallback((key: string) => {
    if (key === '') clearApiKey();
    else setApiKey(key);
    setAuth('none');
    setKeyGeneration((g) => g + 1);
  }, []);
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
  const services = useAsync(`services-${nowMs}-${keyGeneration}`, (signal) =>
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

  // A span selector shows the span's flame graph in the single view (or the spans view): a link that
  // names it on another view's path lands on the single view, and the tabs say so.
  useEffect(() => {
    if (state.spanSelector !== '' && state.view !== 'single' && state.view !== 'spans')
      update({ view: 'single' }, true);
  }, [state.spanSelector, state.view, update]);

  const viewProps = { state, update, services: map ?? new Map<string, string[]>(), nowMs };
  let body;
  if (state.view === 'adhoc') body = <AdhocView {...viewProps} />;
  else if (state.view === 'rules') body = <RulesView {...viewProps} />;
  else if (services.error) body = <ErrorBox error={services.error} what="the list of applications" />;
  else if (!map) body = <Loading />;
  else if (map.size === 0) body = <NoData />;
  else if (!state.service || !state.profileType) body = <Loading />;
  else if (state.view === 'spans') body = <SpansView {...viewProps} />;
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
            update({ view: 'single', spanSelector: '' });
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
                update({ view: v, focus: '', spanSelector: '' });
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
        {getApiKey() !== '' && (
          <button onClick={() => applyKey('')} title="Forget the API key of this browser session">
            Sign out
          </button>
        )}
        <button
          onClick={() => update({ theme: state.theme === 'dark' ? 'light' : 'dark' })}
          aria-label="Toggle theme"
        >
          {state.theme === 'dark' ? 'Light theme' : 'Dark theme'}
        </button>
      </header>
      <main key={keyGeneration}>{body}</main>
      {auth !== 'none' && <KeyPrompt rejected={auth === 'rejected'} onKey={applyKey} />}
    </div>
  );
}

/** 'needed': the server answered 401 and no key is set; 'rejected': the key set was refused. */
type AuthPrompt = 'none' | 'needed' | 'rejected';

/** Asks for an API key once; the server answered 401 (authentication is on). */
function KeyPrompt(props: { rejected: boolean; onKey: (key: string) => void }) {
  const [key, setKey] = useState('');
  return (
    <div className="overlay">
      <form
        className="dialog"
        role="dialog"
        aria-modal="true"
        aria-labelledby="key-prompt-title"
        onSubmit={(e) => {
          e.preventDefault();
          if (key.trim() !== '') props.onKey(key.trim());
        }}
      >
        <h2 id="key-prompt-title">Sign in to Hotpath</h2>
        <p>
          This Hotpath server requires an API key with the <code>read</code> scope. It is kept for this
          browser session only.
        </p>
        {props.rejected && (
          <p className="error" role="alert">
            The server did not accept this key (missing, revoked or for another scope). Try another one.
          </p>
        )}
        <input
          type="password"
          aria-label="API key"
          autoComplete="current-password"
          autoFocus
          value={key}
          onChange={(e) => setKey(e.target.value)}
        />
        <p className="hint">
          An administrator creates one with <code>hotpath keys create --tenant NAME --scope read</code>.
        </p>
        <button type="submit" disabled={key.trim() === ''}>
          Sign in
        </button>
      </form>
    </div>
  );
}
