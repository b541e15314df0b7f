// Normalisation of decoded profiles into what the store appends (DESIGN.md write path):
// one series per profile type and per distinct promoted sample-label set, series labels per compat
// spec §1.6 (profile type id, __name__ relabel rules, private __type__/__unit__/... labels,
// service_name fallback), content-hash stack ids (core ids.ts), one row per distinct stack with
// values summed and zeros dropped, deep stacks truncated and long symbols shortened. Samples with a
// span (sample labels span_id or profile_id, span_name, trace_id) keep it per row (ProfileRecord.spanIds),
// never as a series label, so the number of series does not grow with the number of spans.
// Everything here validates before anything is appended: a rejected upload leaves no trace.

import {
  formatLabels,
  functionIdLanes,
  idFromLanes,
  makeProfileType,
  MAX_SAMPLE_VALUE,
  normalizeLabels,
  stackIdLanes,
  type LabelPair,
  type Labels,
  type Profile,
  type ProfileType,
} from '@hotpath/core';
import type { Limits } from '../limits.ts';
import type { FunctionRecord, ProfileRecord, SpanRecord, StackRecord } from '../store/types.ts';
import { IngestErrors } from './errors.ts';
import type { RuleEvaluator } from '../rules/recorder.ts';

/** One decoded upload: profiles of one source sharing labels and a time. */
export interface Upload {
  readonly profiles: readonly Profile[];
  /** Request labels (name grammar or Push labels), unsorted, may include `__name__`. */
  readonly labels: readonly LabelPair[];
  /** ms since epoch; used when a profile carries no time of its own. */
  readonly fallbackTimeMs: number;
  /** For pprof /ingest: use the profile's own time_nanos unless 0 or in 1970 (§1.2). */
  readonly preferProfileTime: boolean;
  /** Multiplies values (legacy cpu/wall with a sample rate); default 1. */
  readonly scale?: number;
}

export interface Normalized {
  readonly profiles: ProfileRecord[];
  readonly functions: FunctionRecord[];
  readonly stacks: StackRecord[];
  /** Samples whose stacks were deeper than maxStackDepth (kept, truncated). */
  readonly truncatedStacks: number;
  /** Function names longer than maxSymbolLength (kept, shortened to their suffix). */
  readonly truncatedSymbols: number;
  /** Distinct stacks written (rows), for metrics. */
  readonly rows: number;
}

/** Labels the server itself sets; not counted against the per-series label limit. */
const PRIVATE = new Set(['__profile_type__', '__type__', '__unit__', '__period_type__', '__period_unit__']);
/** Sample labels that stay per sample (§1.6) and never become series labels. */
const NOT_PROMOTED = new Set(['trace_id', 'span_id', 'profile_id', 'span_name']);
/** A span id as clients send it: up to 16 hex digits (Pyroscope's 16 lower-case ones). */
const SPAN_ID = /^[0-9a-fA-F]{1,16}$/;
const TRACE_ID = /^[0-9a-fA-F]{1,32}$/;

/** What a sample label set says about a span; its id is 0n when the set names none (or a malformed one). */
interface SpanOfSet {
  readonly spanId: bigint;
  readonly name: string;
  readonly traceId: string;
}
const NO_SPAN: SpanOfSet = { spanId: 0n, name: '', traceId: '' };

/** The span of a sample label set: `span_id`, else `profile_id` (Pyroscope renames it span_id). */
export function spanOfLabels(set: Labels, maxNameLength: number): SpanOfSet {
  let id: string | undefined;
  let profileId: string | undefined;
  let name = '';
  let traceId = '';
  for (const l of set) {
    if (l.name === 'span_id') id = l.value;
    else if (l.name === 'profile_id') profileId = l.value;
    else if (l.name === 'span_name') name = l.value.slice(0, maxNameLength);
    else if (l.name === 'trace_id' && TRACE_ID.test(l.value))
      traceId = l.value.toLowerCase().padStart(32, '0');
  }
  const text = id ?? profileId;
  if (text === undefined || !SPAN_ID.test(text)) return NO_SPAN;
  const spanId = BigInt(`0x${text}`);
  return spanId === 0n ? NO_SPAN : { spanId, name, traceId };
}

/** Per-span sums of one series of one profile: stack index → value, plus the span's totals. */
interface SpanSums {
  readonly span: SpanOfSet;
  readonly sums: Map<number, number>;
  total: number;
  samples: number;
}
const UNKNOWN_SERVICE = 'unknown_service';
const YEAR_1971_MS = Date.UTC(1971, 0, 1);

/** Ids computed once per shared frame/stack table (all sample types of one pprof share them). */
interface TableIds {
  /** Effective stack index after depth truncation. */
  readonly effective: Int32Array;
  /** The stack id of a (non-truncated) stack index, made into a bigint only when asked. */
  readonly idOf: (stack: number) => bigint;
  readonly functionIds: BigUint64Array;
  readonly names: string[];
  readonly truncatedStackIndexes: Uint8Array;
  readonly truncatedSymbols: number;
  /** 1 once a stack index (and so its ancestors) is in this batch's dictionary or known to be stored. */
  readonly emitted: Uint8Array;
}

function tableIds(p: Profile, limits: Limits): TableIds {
  const { frames, stacks } = p;
  const names: string[] = new Array(frames.length);
  const functionIds = new BigUint64Array(frames.length);
  const fnHi = new Uint32Array(frames.length);
  const fnLo = new Uint32Array(frames.length);
  let truncatedSymbols = 0;
  for (let f = 0; f < frames.length; f++) {
    let name = frames.name[f] ?? '';
    if (name.length > limits.maxSymbolLength) {
      name = name.slice(name.length - limits.maxSymbolLength);
      truncatedSymbols++;
    }
    names[f] = name;
    functionIdLanes(name, frames.file[f] ?? '', fnHi, fnLo, f);
    functionIds[f] = idFromLanes(fnHi[f]!, fnLo[f]!);
  }
  const depth = new Int32Array(stacks.length);
  const effective = new Int32Array(stacks.length);
  const hi = new Uint32Array(stacks.length);
  const lo = new Uint32Array(stacks.length);
  const truncated = new Uint8Array(stacks.length);
  for (let s = 0; s < stacks.length; s++) {
    const parent = stacks.parent[s]!;
    depth[s] = parent === -1 ? 1 : depth[parent]! + 1;
    if (depth[s]! > limits.maxStackDepth) {
      // Deeper than the limit: the sample counts for its ancestor at the limit (root frames kept).
      effective[s] = effective[parent]!;
      truncated[s] = 1;
      continue;
    }
    effective[s] = s;
    const f = stacks.frame[s]!;
    stackIdLanes(
      parent === -1 ? 0 : hi[parent]!,
      parent === -1 ? 0 : lo[parent]!,
      fnHi[f]!,
      fnLo[f]!,
      hi,
      lo,
      s,
    );
  }
  const ids = new BigUint64Array(stacks.length);
  const idOf = (s: number): bigint => {
    let id = ids[s]!;
    if (id === 0n) ids[s] = id = idFromLanes(hi[s]!, lo[s]!);
    return id;
  };
  return {
    effective,
    idOf,
    functionIds,
    names,
    truncatedStackIndexes: truncated,
    truncatedSymbols,
    emitted: new Uint8Array(stacks.length),
  };
}

/** The Pyroscope relabel defaults (§1.6): strip `godeltaprof_`, and wall with __type__=cpu is process_cpu. */
function metricName(name: string, type: ProfileType): string {
  let n = name.startsWith('godeltaprof_') ? name.slice('godeltaprof_'.length) : name;
  if (n === 'wall' && type.sampleType === 'cpu') n = 'process_cpu';
  return n;
}

/** Series labels of one profile type: request labels + promoted sample labels + the reserved ones. */
export function seriesLabelsFor(request: readonly LabelPair[], promoted: Labels, type: ProfileType): Labels {
  const byName = new Map<string, string>();
  let metric = type.name;
  for (const l of request) {
    if (l.name === '__name__') {
      metric = l.value;
      continue;
    }
    if (l.name.startsWith('__') && l.name !== '__session_id__') continue;
    byName.set(l.name, l.value);
  }
  for (const l of promoted) if (!byName.has(l.name) && !l.name.startsWith('__')) byName.set(l.name, l.value);
  if (!byName.has('service_name')) byName.set('service_name', UNKNOWN_SERVICE);
  const name = metricName(metric, type);
  const id = makeProfileType(name, type.sampleType, type.sampleUnit, type.periodType, type.periodUnit).id;
  byName.set('__name__', name);
  byName.set('__profile_type__', id);
  byName.set('__type__', type.sampleType);
  byName.set('__unit__', type.sampleUnit);
  byName.set('__period_type__', type.periodType);
  byName.set('__period_unit__', type.periodUnit);
  return normalizeLabels([...byName].map(([n, value]) => ({ name: n, value })));
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** A JS string is valid UTF-8 text when it has no unpaired surrogate. */
function isWellFormed(s: string): boolean {
  return !LONE_SURROGATE.test(s);
}

function utf8Length(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** Label checks of §4.3 (private labels the server adds are not counted). */
export function validateSeriesLabels(labels: Labels, limits: Limits): void {
  let count = 0;
  for (const l of labels) {
    // The server's own labels are well-formed by construction (their values come from the profile).
    if (PRIVATE.has(l.name)) continue;
    count++;
    if (l.name === '' || !isWellFormed(l.name)) throw IngestErrors.invalidLabelName(l.name);
    if (!isWellFormed(l.value)) throw IngestErrors.invalidUtf8(`value of label ${JSON.stringify(l.name)}`);
    const nameBytes = utf8Length(l.name);
    if (nameBytes > limits.maxLabelNameLength)
      throw IngestErrors.labelNameTooLong(limits.maxLabelNameLength, nameBytes, l.name);
    const valueBytes = utf8Length(l.value);
    if (valueBytes > limits.maxLabelValueLength)
      throw IngestErrors.labelValueTooLong(limits.maxLabelValueLength, valueBytes, l.name);
  }
  if (count > limits.maxLabelNamesPerSeries)
    throw IngestErrors.tooManyLabels(
      limits.maxLabelNamesPerSeries,
      count,
      formatLabels(labels).slice(0, 200),
    );
  const service = labels.find((l) => l.name === 'service_name');
  if (service !== undefined && service.value === '') throw IngestErrors.emptyServiceName();
}

/** Checks request labels for duplicates and encoding before anything else (Push). */
export function validateRequestLabels(labels: readonly LabelPair[]): void {
  const seen = new Set<string>();
  for (const l of labels) {
    if (seen.has(l.name)) throw IngestErrors.duplicateLabelName(l.name);
    seen.add(l.name);
  }
}

/** Resolves a profile's time (ms) per §1.2 and checks the accepted window. */
export function profileTimeMs(p: Profile, upload: Upload, nowMs: number, limits: Limits): number {
  let t = upload.fallbackTimeMs;
  if (upload.preferProfileTime && p.timeNs > 0) {
    const ms = p.timeNs / 1e6;
    if (ms >= YEAR_1971_MS) t = ms;
  }
  t = Math.floor(t);
  if (t < nowMs - limits.rejectOlderThanMs)
    throw IngestErrors.profileTooOld(limits.rejectOlderThanMs, t, nowMs);
  if (t > nowMs + limits.rejectNewerThanMs)
    throw IngestErrors.profileTooNew(limits.rejectNewerThanMs, t, nowMs);
  return t;
}

/**
 * A sample value times the upload's scale, checked where it enters: every format (folded, lines,
 * trie, tree, speedscope, pprof, multipart, Push) reaches the store through here. A value must be a
 * finite number within ±MAX_SAMPLE_VALUE before and after scaling (a 400-digit count parses as
 * Infinity; 2^60 × 1e7 is no longer exact).
 */
function checkedValue(raw: number, scale: number): number {
  if (!(raw >= -MAX_SAMPLE_VALUE && raw <= MAX_SAMPLE_VALUE))
    throw IngestErrors.sampleValueOutOfRange('a sample value', MAX_SAMPLE_VALUE, raw);
  const v = raw * scale;
  if (!(v >= -MAX_SAMPLE_VALUE && v <= MAX_SAMPLE_VALUE))
    throw IngestErrors.sampleValueOutOfRange(`a sample value ${raw} scaled by ${scale}`, MAX_SAMPLE_VALUE, v);
  return v;
}

/** Collects dictionary entries and series across uploads of one request. */
export class BatchBuilder {
  readonly profiles: ProfileRecord[] = [];
  private readonly functions = new Map<bigint, FunctionRecord>();
  private readonly stacks = new Map<bigint, StackRecord>();
  truncatedStacks = 0;
  truncatedSymbols = 0;
  rows = 0;

  constructor(
    private readonly tenant: string,
    private readonly limits: Limits,
    private readonly nowMs: number,
    /** Stack ids already committed: their dictionary entries (and their ancestors') are not sent again. */
    private readonly committedStacks: ReadonlySet<bigint> = new Set(),
    /** The tenant's recording rules, shown every profile added (rules/recorder.ts). */
    private readonly rules?: RuleEvaluator,
  ) {}

  add(upload: Upload): void {
    validateRequestLabels(upload.labels);
    const scale = upload.scale ?? 1;
    const idsByTable = this.idsByTable;
    for (const p of upload.profiles) {
      if (p.samples.length > this.limits.maxSamplesPerProfile)
        throw IngestErrors.tooManySamples(this.limits.maxSamplesPerProfile, p.samples.length);
      const timeMs = profileTimeMs(p, upload, this.nowMs, this.limits);
      let ids = idsByTable.get(p.stacks);
      if (ids === undefined) {
        ids = tableIds(p, this.limits);
        idsByTable.set(p.stacks, ids);
        this.truncatedSymbols += ids.truncatedSymbols;
      }
      // Sum per (label set, effective stack index), and per span apart; zeros dropped later.
      const perSet = new Map<number, Float64Array>();
      const spansPerSet = new Map<number, Map<bigint, SpanSums>>();
      const spanOfSet = this.spansOf(p);
      const { stack, value, labelSet } = p.samples;
      // Sum of |value × scale| over the profile: bounding it bounds every per-stack sum too.
      let magnitude = 0;
      for (let i = 0; i < p.samples.length; i++) {
        const raw = value[i]!;
        if (raw === 0) continue;
        const v = checkedValue(raw, scale);
        magnitude += Math.abs(v);
        const s = stack[i]!;
        if (ids.truncatedStackIndexes[s] === 1) this.truncatedStacks++;
        const set = this.promotedSetOf(p, labelSet[i]!);
        let sums = perSet.get(set);
        if (sums === undefined) perSet.set(set, (sums = new Float64Array(p.stacks.length)));
        const span = spanOfSet[labelSet[i]!]!;
        if (span.spanId === 0n) {
          sums[ids.effective[s]!]! += v;
          continue;
        }
        let bySpan = spansPerSet.get(set);
        if (bySpan === undefined) spansPerSet.set(set, (bySpan = new Map()));
        let ss = bySpan.get(span.spanId);
        if (ss === undefined) bySpan.set(span.spanId, (ss = { span, sums: new Map(), total: 0, samples: 0 }));
        const e = ids.effective[s]!;
        ss.sums.set(e, (ss.sums.get(e) ?? 0) + v);
        ss.total += v;
        ss.samples++;
      }
      if (magnitude > MAX_SAMPLE_VALUE)
        throw IngestErrors.sampleValueOutOfRange(
          "the sum of the profile's values",
          MAX_SAMPLE_VALUE,
          magnitude,
        );
      const promotedCache = this.promotedCache(p);
      for (const [set, sums] of perSet) {
        const labels = seriesLabelsFor(upload.labels, promotedCache[set]!, p.type);
        validateSeriesLabels(labels, this.limits);
        this.addRecord(labels, timeMs, sums, ids, p, spansPerSet.get(set));
        const spans = spansPerSet.get(set)?.values() ?? [];
        this.rules?.observe(
          labels,
          p.stacks,
          ids.names,
          sums,
          [...spans].map((ss) => ss.sums),
        );
      }
    }
  }

  /**
   * Like add, but a rejected upload leaves the batch as it was and its error is returned (OTLP's
   * partial success: one bad profile does not cost the others). Dictionary entries it added stay:
   * content-addressed and unreferenced, they change no query.
   */
  tryAdd(upload: Upload): unknown {
    const before = {
      profiles: this.profiles.length,
      rows: this.rows,
      truncatedStacks: this.truncatedStacks,
      truncatedSymbols: this.truncatedSymbols,
      ruleHits: this.rules?.hits.length ?? 0,
    };
    try {
      this.add(upload);
      return undefined;
    } catch (err) {
      this.profiles.length = before.profiles;
      this.rows = before.rows;
      this.truncatedStacks = before.truncatedStacks;
      this.truncatedSymbols = before.truncatedSymbols;
      if (this.rules !== undefined) this.rules.hits.length = before.ruleHits;
      return err;
    }
  }

  /** Ids per shared frame/stack table, across uploads (OTLP profiles of one request share one). */
  private readonly idsByTable = new WeakMap<object, TableIds>();

  private spansBySet = new WeakMap<Profile['sampleLabelSets'], SpanOfSet[]>();

  /** The span of each sample label set of p (NO_SPAN for most), computed once per label set table. */
  private spansOf(p: Profile): SpanOfSet[] {
    let spans = this.spansBySet.get(p.sampleLabelSets);
    if (spans === undefined) {
      spans = p.sampleLabelSets.map((set) => spanOfLabels(set, this.limits.maxLabelValueLength));
      this.spansBySet.set(p.sampleLabelSets, spans);
    }
    return spans;
  }

  private promotedBySet = new WeakMap<Profile['sampleLabelSets'], { map: Int32Array; sets: Labels[] }>();

  /** Maps a sample label set to the index of its promoted (series) part. */
  private promotedSetOf(p: Profile, set: number): number {
    return this.promoted(p).map[set]!;
  }

  private promotedCache(p: Profile): Labels[] {
    return this.promoted(p).sets;
  }

  private promoted(p: Profile): { map: Int32Array; sets: Labels[] } {
    let entry = this.promotedBySet.get(p.sampleLabelSets);
    if (entry === undefined) {
      const map = new Int32Array(p.sampleLabelSets.length);
      const sets: Labels[] = [];
      const byKey = new Map<string, number>();
      p.sampleLabelSets.forEach((set, i) => {
        const kept = set.filter((l) => !NOT_PROMOTED.has(l.name));
        const key = formatLabels(kept);
        let idx = byKey.get(key);
        if (idx === undefined) {
          idx = sets.length;
          sets.push(kept);
          byKey.set(key, idx);
        }
        map[i] = idx;
      });
      entry = { map, sets };
      this.promotedBySet.set(p.sampleLabelSets, entry);
    }
    return entry;
  }

  private addRecord(
    labels: Labels,
    timeMs: number,
    sums: Float64Array,
    ids: TableIds,
    p: Profile,
    spans: Map<bigint, SpanSums> | undefined,
  ): void {
    // Rows per span: span id → stack id → value; 0n holds the samples without a span.
    const bySpan = new Map<bigint, Map<bigint, number>>([[0n, new Map()]]);
    const add = (span: bigint, s: number, v: number): void => {
      if (v === 0) return;
      let byId = bySpan.get(span);
      if (byId === undefined) bySpan.set(span, (byId = new Map()));
      const id = ids.idOf(s);
      byId.set(id, (byId.get(id) ?? 0) + v);
      this.addStackChain(s, ids, p);
    };
    for (let s = 0; s < sums.length; s++) add(0n, s, sums[s]!);
    for (const [spanId, ss] of spans ?? []) for (const [s, v] of ss.sums) add(spanId, s, v);
    let size = 0;
    for (const byId of bySpan.values()) size += byId.size;
    const stackIds = new BigUint64Array(size);
    const values = new Float64Array(size);
    const spanIds = spans === undefined ? undefined : new BigUint64Array(size);
    const records: SpanRecord[] = [];
    let i = 0;
    for (const [spanId, byId] of bySpan) {
      const first = i;
      for (const [id, v] of byId) {
        if (v === 0) continue;
        stackIds[i] = id;
        values[i] = v;
        if (spanIds !== undefined) spanIds[i] = spanId;
        i++;
      }
      const ss = spans?.get(spanId);
      if (ss !== undefined && i > first)
        records.push({
          spanId,
          name: ss.span.name,
          traceId: ss.span.traceId,
          total: ss.total,
          samples: ss.samples,
        });
    }
    if (i === 0) return;
    this.rows += i;
    this.profiles.push({
      tenant: this.tenant,
      labels,
      timeMs,
      stackIds: i === stackIds.length ? stackIds : stackIds.slice(0, i),
      values: i === values.length ? values : values.slice(0, i),
      ...(spanIds !== undefined && records.length > 0
        ? { spanIds: i === spanIds.length ? spanIds : spanIds.slice(0, i), spans: records }
        : {}),
    });
  }

  /** Adds a stack and its ancestors (until one is already present) to the dictionaries. */
  private addStackChain(s: number, ids: TableIds, p: Profile): void {
    for (let cur = s; cur !== -1; cur = p.stacks.parent[cur]!) {
      if (ids.emitted[cur] === 1) return;
      ids.emitted[cur] = 1;
      const id = ids.idOf(cur);
      if (this.committedStacks.has(id) || this.stacks.has(id)) return;
      const parent = p.stacks.parent[cur]!;
      const frame = p.stacks.frame[cur]!;
      const fn = ids.functionIds[frame]!;
      this.stacks.set(id, { id, parentId: parent === -1 ? 0n : ids.idOf(parent), functionId: fn });
      if (!this.functions.has(fn))
        this.functions.set(fn, { id: fn, name: ids.names[frame]!, file: p.frames.file[frame] ?? '' });
    }
  }

  result(): Normalized {
    return {
      profiles: this.profiles,
      functions: [...this.functions.values()],
      stacks: [...this.stacks.values()],
      truncatedStacks: this.truncatedStacks,
      truncatedSymbols: this.truncatedSymbols,
      rows: this.rows,
    };
  }
}
