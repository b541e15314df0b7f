import { describe, expect, it } from 'vitest';
import { exportFlamebearer, exportFolded, exportPprof, exportSpeedscope } from './exports.ts';
import { printTree } from './picture.ts';
import { treeFromFolded } from './tree.ts';
import { importFile, UploadError } from '../upload.ts';

const tree = treeFromFolded(`
main;server.handle;order_car;find_nearest_vehicle 300
main;server.handle;order_bike;find_nearest_vehicle 100
main;server.handle 20
main;gc 50
`);
const enc = new TextEncoder();

describe('exports read back by the upload view', () => {
  it.each([
    ['folded', () => enc.encode(exportFolded(tree)), 'folded'],
    ['speedscope', () => enc.encode(exportSpeedscope(tree, 'cpu', 'nanoseconds')), 'speedscope'],
    ['flamebearer', () => enc.encode(exportFlamebearer(tree, 'cpu', 'samples')), 'flamebearer'],
    ['pprof', () => exportPprof(tree, 'process_cpu:cpu:nanoseconds:cpu:nanoseconds'), 'pprof'],
  ] as const)('%s round-trips the tree', (_name, make, format) => {
    const file = importFile(`x.${format}`, make());
    expect(file.format).toBe(format);
    expect(printTree(file.profiles[0]!.tree)).toBe(printTree(tree));
  });

  it('keeps the profile type in pprof', () => {
    const file = importFile('x.pb.gz', exportPprof(tree, 'memory:alloc_space:bytes:space:bytes'));
    expect(file.profiles[0]!.typeId).toBe('memory:alloc_space:bytes:space:bytes');
  });

  it('rejects files it cannot read with a message naming the file', () => {
    expect(() => importFile('notes.txt', enc.encode('hello world'))).toThrow(UploadError);
    expect(() => importFile('notes.txt', enc.encode('hello world'))).toThrow(
      /notes\.txt: not a pprof, speedscope or folded file/,
    );
    expect(() => importFile('x.json', enc.encode('{"a":1}'))).toThrow(/neither speedscope nor flamebearer/);
  });
});
