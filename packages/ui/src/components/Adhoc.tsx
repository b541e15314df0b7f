// Ad-hoc view: drop a pprof / folded / speedscope / flamebearer file to view it, and compare it with
// another file or with stored data (diff). The profile file is also stored on the server
// (adhocprofiles.v1.AdHocProfileService, per tenant): its id goes into the URL (`adhoc=<id>`), so the
// link opens the same profile for anyone of the tenant. A second file stays in the browser.
import { useEffect, useMemo, useState } from 'react';
import { getAdhoc, listAdhoc, render, uploadAdhoc, type AdhocProfile } from '../api.ts';
import { FlamePanel } from '../flame/FlamePanel.tsx';
import { diffTrees } from '../flame/transforms.ts';
import type { FlameTree } from '../flame/tree.ts';
import { unitsOfProfileType } from '../format.ts';
import { selectorOf } from '../state.ts';
import { importFile, type UploadedFile } from '../upload.ts';
import { ErrorBox, rangeMs } from './common.tsx';
import type { ViewProps } from './views.tsx';

type Against = 'none' | 'file' | 'stored';

function DropZone(props: {
  label: string;
  file: UploadedFile | null;
  onFile: (f: UploadedFile, bytes: Uint8Array) => void;
  onError: (e: Error) => void;
  testId: string;
}) {
  const [over, setOver] = useState(false);
  const read = async (f: File) => {
    try {
      const bytes = new Uint8Array(await f.arrayBuffer());
      props.onFile(importFile(f.name, bytes), bytes);
    } catch (e) {
      props.onError(e instanceof Error ? e : new Error(String(e)));
    }
  };
  return (
    <label
      className={`drop-zone${over ? ' over' : ''}`}
      data-testid={props.testId}
      onDragOver={(e) => {
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={(e) => {
        e.preventDefault();
        setOver(false);
        const f = e.dataTransfer.files[0];
        if (f) void read(f);
      }}
    >
      <input type="file" onChange={(e) => e.target.files?.[0] && void read(e.target.files[0])} />
      <strong>{props.label}</strong>
      <span>
        {props.file
          ? `${props.file.fileName} (${props.file.format}, ${props.file.profiles.length} profile type${props.file.profiles.length === 1 ? '' : 's'})`
          : 'Drop a pprof, folded, speedscope or flamebearer JSON file here, or click to choose one.'}
      </span>
    </label>
  );
}

export function AdhocView(props: ViewProps) {
  const { state, update, nowMs } = props;
  const [main, setMain] = useState<UploadedFile | null>(null);
  const [other, setOther] = useState<UploadedFile | null>(null);
  const [typeIndex, setTypeIndex] = useState(0);
  const [against, setAgainst] = useState<Against>('none');
  const [stored, setStored] = useState<FlameTree | null>(null);
  const [error, setError] = useState<Error | null>(null);
  /** The stored upload named by the URL, when the profile comes from the server rather than a drop. */
  const [saved, setSaved] = useState<AdhocProfile | null>(null);
  const [saveError, setSaveError] = useState<Error | null>(null);
  const [recent, setRecent] = useState<{ id: string; name: string; uploadedAtMs: number }[]>([]);
  const [savedType, setSavedType] = useState('');
  // A link with `adhoc=<id>` (and no file dropped in this page) opens the stored upload.
  useEffect(() => {
    if (!state.adhoc || main) return;
    let live = true;
    getAdhoc(state.adhoc, savedType, state.maxNodes).then(
      (p) => live && (setSaved(p), setError(null)),
      (e: unknown) => live && setError(e instanceof Error ? e : new Error(String(e))),
    );
    return () => {
      live = false;
    };
  }, [state.adhoc, savedType, state.maxNodes, main]);
  useEffect(() => {
    listAdhoc().then(setRecent, () => setRecent([]));
  }, [state.adhoc]);
  const fromServer: UploadedFile | null =
    saved && !main
      ? {
          fileName: saved.name,
          format: 'stored',
          profiles: [
            {
              typeId: `${saved.sampleType || 'upload'}:${saved.sampleType || 'samples'}:${unitOf(saved)}::`,
              tree: saved.tree,
            },
          ],
        }
      : null;
  const shown = main ?? fromServer;
  const mainProfile = shown?.profiles[Math.min(typeIndex, shown.profiles.length - 1)] ?? null;
  const otherTree = other
    ? ((other.profiles.find((p) => p.typeId === mainProfile?.typeId) ?? other.profiles[0])?.tree ?? null)
    : null;
  const baseline = against === 'file' ? otherTree : against === 'stored' ? stored : null;
  const tree = useMemo(
    () => (mainProfile && baseline ? diffTrees(baseline, mainProfile.tree) : (mainProfile?.tree ?? null)),
    [mainProfile, baseline],
  );
  // Units of the upload: pprof carries its profile type; speedscope names its unit; others are plain counts.
  // Against stored data the stored profile type's unit applies.
  const typeId = !mainProfile
    ? 'unknown:samples:count::'
    : against === 'stored' && state.profileType
      ? state.profileType
      : mainProfile.typeId.includes(':')
        ? mainProfile.typeId
        : /\((nanoseconds|bytes)\)$/.test(mainProfile.typeId)
          ? `upload:samples:${/\((\w+)\)$/.exec(mainProfile.typeId)![1]}::`
          : 'upload:samples:count::';
  const loadStored = async () => {
    setError(null);
    try {
      const { fromMs, untilMs } = rangeMs(state.from, state.until, nowMs);
      const r = await render({
        profileType: state.profileType,
        selector: selectorOf(state.service, state.query),
        fromMs,
        untilMs,
        maxNodes: state.maxNodes,
      });
      setStored(r.tree);
      setAgainst('stored');
    } catch (e) {
      setError(e instanceof Error ? e : new Error(String(e)));
    }
  };
  return (
    <>
      <p className="hint">
        The profile file is stored on the server for this tenant (the link below opens it); the file to
        compare against stays in your browser.
        {state.adhoc && (
          <>
            {' '}
            <a data-testid="adhoc-link" href={`/adhoc?adhoc=${encodeURIComponent(state.adhoc)}`}>
              Link to {saved?.name ?? main?.fileName ?? 'this upload'}
            </a>
          </>
        )}
        {saveError && <span className="error"> Not stored: {saveError.message}</span>}
      </p>
      <div className="sides">
        <DropZone
          label="Profile"
          testId="drop-main"
          file={shown}
          onFile={(f, bytes) => {
            setMain(f);
            setTypeIndex(0);
            setError(null);
            setSaveError(null);
            uploadAdhoc(f.fileName, bytes, state.maxNodes).then(
              (p) => {
                setSaved(p);
                update({ adhoc: p.id });
              },
              (e: unknown) => setSaveError(e instanceof Error ? e : new Error(String(e))),
            );
          }}
          onError={setError}
        />
        <DropZone
          label="Compare against (optional baseline)"
          testId="drop-other"
          file={other}
          onFile={(f) => {
            setOther(f);
            setAgainst('file');
            setError(null);
          }}
          onError={setError}
        />
      </div>
      <div className="querybar">
        {!main && saved && saved.profileTypes.length > 1 && (
          <label className="field">
            <span>Profile type</span>
            <select
              aria-label="Stored profile type"
              value={saved.profileType}
              onChange={(e) => setSavedType(e.target.value)}
            >
              {saved.profileTypes.map((t) => (
                <option key={t} value={t}>
                  {t}
                </option>
              ))}
            </select>
          </label>
        )}
        {recent.length > 0 && (
          <label className="field">
            <span>Stored uploads</span>
            <select
              aria-label="Stored uploads"
              value={state.adhoc}
              onChange={(e) => {
                setMain(null);
                setSaved(null);
                setSavedType('');
                update({ adhoc: e.target.value });
              }}
            >
              <option value="">(choose)</option>
              {recent.map((r) => (
                <option key={r.id} value={r.id}>
                  {r.name || r.id} ({new Date(r.uploadedAtMs).toISOString().slice(0, 16).replace('T', ' ')})
                </option>
              ))}
            </select>
          </label>
        )}
        {main && main.profiles.length > 1 && (
          <label className="field">
            <span>Profile type</span>
            <select
              aria-label="Uploaded profile type"
              value={typeIndex}
              onChange={(e) => setTypeIndex(Number(e.target.value))}
            >
              {main.profiles.map((p, k) => (
                <option key={k} value={k}>
                  {p.typeId}
                </option>
              ))}
            </select>
          </label>
        )}
        <label className="field">
          <span>Compare with</span>
          <select
            aria-label="Compare with"
            value={against}
            onChange={(e) =>
              e.target.value === 'stored' ? void loadStored() : setAgainst(e.target.value as Against)
            }
          >
            <option value="none">nothing (single view)</option>
            <option value="file" disabled={!other}>
              the second file
            </option>
            <option value="stored" disabled={!state.service}>
              stored data
              {state.service
                ? `: ${state.service}, ${state.from}…${state.until}`
                : ' (pick an application first)'}
            </option>
          </select>
        </label>
      </div>
      {error && <ErrorBox error={error} what="the file" />}
      {tree && (
        <FlamePanel
          label="adhoc"
          title={baseline ? 'Diff: baseline → uploaded profile' : shown?.fileName}
          tree={tree}
          units={unitsOfProfileType(typeId)}
          profileTypeId={typeId}
          state={state}
          update={update}
        />
      )}
    </>
  );
}

/** The unit of a stored upload's values, from its flamebearer metadata (cpu is nanoseconds). */
function unitOf(p: AdhocProfile): string {
  if (p.sampleType === 'cpu') return 'nanoseconds';
  return p.units === 'objects' || p.units === 'samples' ? 'count' : p.units || 'count';
}
