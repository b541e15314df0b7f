import { describe, expect, it } from 'vitest';
import { frameKindOf, withFrameKind } from './frame-kind.ts';

describe('frame kinds', () => {
  it('suffixes every kind but Python, and reads it back', () => {
    const named = [
      ['handle_request', 'cpython'],
      ['handle_request', ''],
      ['_PyEval_EvalFrameDefault', 'native'],
      ['do_syscall_64', 'kernel'],
      ['runtime.mallocgc', 'go'],
      ['x', 'Not A Kind!'],
    ].map(([name, kind]) => withFrameKind(name!, kind!));
    expect(named).toEqual([
      'handle_request',
      'handle_request',
      '_PyEval_EvalFrameDefault [native]',
      'do_syscall_64 [kernel]',
      'runtime.mallocgc [go]',
      'x',
    ]);
    expect(named.map(frameKindOf)).toEqual(['python', 'python', 'native', 'kernel', 'go', 'python']);
  });
});
