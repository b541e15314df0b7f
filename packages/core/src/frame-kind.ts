// Frame kinds: where a frame's code runs (Python, native code, the kernel...), kept in the frame's
// name as a ` [kind]` suffix. Python frames, Hotpath's own language, carry no suffix, so frames
// the Python SDK sends and frames an eBPF profiler sends for the same function are one function.
//
// Why a suffix and not a field of the function record: a function's identity (its id, a hash of
// name and file) already differs per kind, and the name travels unchanged through every store,
// the read path, pprof export and Grafana, so the UI can colour frames by kind with no schema
// change; flame graph tools have done the same with `_[k]` for decades.

/** Kinds named by OpenTelemetry's `profile.frame.type` attribute, plus 'python' (no suffix). */
export type FrameKind = string;

export const PYTHON_FRAME_KIND: FrameKind = 'python';

/** Frame types that are Python code: the CPython interpreter's frames as OpenTelemetry names them. */
const PYTHON_KINDS = new Set(['', 'python', 'cpython']);

const SUFFIX = / \[([a-z0-9_.-]{1,16})\]$/;

/** `name` with its kind appended, e.g. `do_syscall_64 [kernel]`; Python names are left as they are. */
export function withFrameKind(name: string, kind: string): string {
  const k = kind.toLowerCase();
  if (PYTHON_KINDS.has(k) || !/^[a-z0-9_.-]{1,16}$/.test(k)) return name;
  return `${name} [${k}]`;
}

/** The kind of a frame name written by withFrameKind: 'python' when it carries no suffix. */
export function frameKindOf(name: string): FrameKind {
  return SUFFIX.exec(name)?.[1] ?? PYTHON_FRAME_KIND;
}
