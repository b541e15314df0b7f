// The Hotpath profile model: one vocabulary for every package (see DESIGN.md "One data model").
//
// A Profile is a set of samples (stack, value) of ONE profile type over a time range. Tables are
// struct-of-arrays with a `length`; indexes into them are plain numbers with named aliases.
// A multi-valued pprof (e.g. Go heap: alloc_objects, alloc_space, inuse_*) imports as several
// Profiles that share the same frame and stack tables (tables are immutable once built).

/** Index into a FrameTable. */
export type FrameIndex = number;
/** Index into a StackTable. */
export type StackIndex = number;
/** Index into Profile.sampleLabelSets; 0 is always the empty label set. */
export type LabelSetIndex = number;

export interface LabelPair {
  readonly name: string;
  readonly value: string;
}

/** Series or sample labels, sorted by name, names unique. */
export type Labels = readonly LabelPair[];

/** `<name>:<sample_type>:<sample_unit>:<period_type>:<period_unit>`, e.g. process_cpu:cpu:nanoseconds:cpu:nanoseconds. */
export interface ProfileType {
  /** The full 5-part id. */
  readonly id: string;
  /** The `__name__` metric: process_cpu, memory, wall, block, mutex, goroutine(s)... */
  readonly name: string;
  readonly sampleType: string;
  readonly sampleUnit: string;
  /** '' when the source has no period type. */
  readonly periodType: string;
  readonly periodUnit: string;
}

/** A function: name and file. `line` is the line of the frame when the source had one (0 = unknown). */
export interface FrameTable {
  readonly length: number;
  readonly name: readonly string[];
  readonly file: readonly string[];
  readonly line: Int32Array;
}

/**
 * Stacks as a prefix tree (parent pointers), root-first: stack i is stack parent[i] plus frame[i]
 * as its leaf. parent[i] === -1 for a one-frame stack. Invariant: parent[i] < i.
 */
export interface StackTable {
  readonly length: number;
  readonly parent: Int32Array;
  readonly frame: Int32Array;
}

/** Samples: value summed per (stack, label set) is what matters; duplicates are allowed. */
export interface SampleTable {
  readonly length: number;
  readonly stack: Int32Array;
  /** Values in the profile type's sample unit. Float64 holds integers exactly up to 2^53. */
  readonly value: Float64Array;
  /** Per-sample label set (pprof string labels), index into Profile.sampleLabelSets. */
  readonly labelSet: Int32Array;
}

/**
 * The largest sample value (and sum of values in one profile) Hotpath accepts: 2^53 − 1. Values live
 * as float64 in memory and stores and as int64 on the wire; every integer up to this is exact in both.
 */
export const MAX_SAMPLE_VALUE = Number.MAX_SAFE_INTEGER;

/**
 * `v` as an integer every encoder can write: NaN → 0, fractions truncated, clamped to
 * ±MAX_SAMPLE_VALUE. Ingest rejects such values; this guards output from data that got past it
 * (sums over many profiles, rows written by older versions), so no varint loops on Infinity and no
 * JSON carries null for a number.
 */
export function clampSampleValue(v: number): number {
  if (v >= -MAX_SAMPLE_VALUE && v <= MAX_SAMPLE_VALUE) return Math.trunc(v);
  if (v > 0) return MAX_SAMPLE_VALUE;
  if (v < 0) return -MAX_SAMPLE_VALUE;
  return 0;
}

/** The largest double below 2^63: the greatest int64 a float64 can hold. */
const INT64_MAX_DOUBLE = 2 ** 63 - 1024;

/**
 * `v` as an int64 a varint writer can encode in at most 10 bytes: NaN → 0, fractions truncated,
 * clamped to [-2^63, 2^63 − 1024]. Unlike clampSampleValue it keeps ns timestamps (≈ 2^61) intact.
 */
export function clampInt64(v: number): number {
  if (v >= -(2 ** 63) && v <= INT64_MAX_DOUBLE) return Math.trunc(v);
  if (v > 0) return INT64_MAX_DOUBLE;
  if (v < 0) return -(2 ** 63);
  return 0;
}

export interface Profile {
  readonly type: ProfileType;
  /** Start of the window the profile covers, ns since epoch (0 = unknown). */
  readonly timeNs: number;
  /** Length of the window, ns (0 = unknown). */
  readonly durationNs: number;
  /** The sampling period in the period unit (e.g. 10_000_000 ns at 100 Hz); 0 = unknown. */
  readonly period: number;
  readonly frames: FrameTable;
  readonly stacks: StackTable;
  readonly samples: SampleTable;
  /** Index 0 is always []. */
  readonly sampleLabelSets: readonly Labels[];
}

/** Result of importing a file: one Profile per sample type, in the file's order. */
export interface ImportedProfiles {
  /** The format that was recognised, e.g. 'pprof', 'folded'. */
  readonly format: string;
  readonly profiles: readonly Profile[];
}

// ---------------------------------------------------------------------------------------------
// Profile types

export function formatProfileTypeId(
  t: Pick<ProfileType, 'name' | 'sampleType' | 'sampleUnit' | 'periodType' | 'periodUnit'>,
): string {
  return `${t.name}:${t.sampleType}:${t.sampleUnit}:${t.periodType}:${t.periodUnit}`;
}

export function makeProfileType(
  name: string,
  sampleType: string,
  sampleUnit: string,
  periodType = '',
  periodUnit = '',
): ProfileType {
  const parts = { name, sampleType, sampleUnit, periodType, periodUnit };
  return { id: formatProfileTypeId(parts), ...parts };
}

/** Parses a 5-part id (a 6th part, e.g. `delta`, is tolerated and dropped). Returns null when malformed. */
export function parseProfileTypeId(id: string): ProfileType | null {
  const parts = id.split(':');
  if (parts.length !== 5 && parts.length !== 6) return null;
  const [name, sampleType, sampleUnit, periodType, periodUnit] = parts as [
    string,
    string,
    string,
    string,
    string,
  ];
  if (name === '' || sampleType === '' || sampleUnit === '') return null;
  return makeProfileType(name, sampleType, sampleUnit, periodType, periodUnit);
}

// ---------------------------------------------------------------------------------------------
// Labels

/** Sorts by name and rejects nothing; later duplicates of a name win. */
export function normalizeLabels(pairs: Iterable<LabelPair>): Labels {
  const byName = new Map<string, string>();
  for (const p of pairs) byName.set(p.name, p.value);
  return [...byName.entries()]
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([name, value]) => ({ name, value }));
}

export function labelsFromRecord(record: Readonly<Record<string, string>>): Labels {
  return normalizeLabels(Object.entries(record).map(([name, value]) => ({ name, value })));
}

export function getLabel(labels: Labels, name: string): string | undefined {
  for (const l of labels) if (l.name === name) return l.value;
  return undefined;
}

/** Canonical text of a label set: `{a="1",b="2"}` with values JSON-escaped. Stable; usable as a map key. */
export function formatLabels(labels: Labels): string {
  return `{${labels.map((l) => `${l.name}=${JSON.stringify(l.value)}`).join(',')}}`;
}

// ---------------------------------------------------------------------------------------------
// Frame names

/** The display name of a frame (what flame graphs show). */
export function frameDisplayName(frames: FrameTable, i: FrameIndex): string {
  return frames.name[i] ?? '';
}

// ---------------------------------------------------------------------------------------------
// Totals

export function totalValue(p: Profile): number {
  let sum = 0;
  const v = p.samples.value;
  for (let i = 0; i < p.samples.length; i++) sum += v[i]!;
  return sum;
}

/** Frames of a stack, root first. */
export function stackFrames(stacks: StackTable, stack: StackIndex): FrameIndex[] {
  const out: FrameIndex[] = [];
  for (let s = stack; s !== -1; s = stacks.parent[s]!) out.push(stacks.frame[s]!);
  return out.reverse();
}

/** Frame names of a stack, root first. */
export function stackNames(p: Pick<Profile, 'frames' | 'stacks'>, stack: StackIndex): string[] {
  return stackFrames(p.stacks, stack).map((f) => p.frames.name[f] ?? '');
}
