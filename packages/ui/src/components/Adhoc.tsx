// Ad-hoc view: drop a pprof / folded / speedscope / flamebearer file to view it in the browser without
// storing it, and compare it with another file or with stored data (diff).
import { useMemo, useState } from 'react';
import { render } from '../api.ts';
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
  onFile: (f: UploadedFile) => void;
  onError: (e: Error) => void;
  testId: string;
}) {
  const [over, setOver] = useState(false);
  const read = async (f: File) => {
    try {
      props.onFile(importFile(f.name, new Uint8Array(await f.arrayBuffer())));
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
  const mainProfile = main?.profiles[Math.min(typeIndex, main.profiles.length - 1)] ?? null;
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
      <p className="hint">Files are read in your browser and never stored on the server.</p>
      <div className="sides">
        <DropZone
          label="Profile"
          testId="drop-main"
          file={main}
          onFile={(f) => {
            setMain(f);
            setTypeIndex(0);
            setError(null);
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
          title={baseline ? 'Diff: baseline → uploaded profile' : main?.fileName}
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
