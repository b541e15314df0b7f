import { describe, expect, it } from 'vitest';
import { hitTest, layoutFlame, panBy, windowOfNode, zoomAround, type Viewport } from './layout.ts';
import { drawLayout, pic } from './picture.ts';
import { findNodeByPath, nodeName, treeFromFolded } from './tree.ts';

const tree = treeFromFolded(`
main;parse;lex 4
main;parse 2
main;render 8
main 2
gc 4
`);

describe('layoutFlame', () => {
  it('draws an icicle: root on top, children after their parent self, sorted by name', () => {
    expect(drawLayout(tree, { cssPxWidth: 40 })).toBe(
      pic(`
        [total                                 ]
        [gc    ][main                          ]
        ............[parse     ][render        ]
        ................[lex   ]................
      `),
    );
  });

  it('draws a flame (inverted): root at the bottom', () => {
    expect(drawLayout(tree, { cssPxWidth: 20, inverted: true })).toBe(
      pic(`
        ........[le]........
        ......[pars][render]
        [gc][main          ]
        [total             ]
      `),
    );
  });

  it('zooms into a node: its ancestors span the width, its subtree fills it', () => {
    const parse = findNodeByPath(tree, ['main', 'parse']);
    expect(drawLayout(tree, { cssPxWidth: 12, ...windowOfNode(tree, parse) })).toBe(
      pic(`
        [total     ]
        [main      ]
        [parse     ]
        ....[lex   ]
      `),
    );
  });

  it('skips nodes narrower than the minimum width', () => {
    const vp: Viewport = { startTicks: 0, endTicks: 20, cssPxWidth: 10, cssPxRowHeight: 18, inverted: false };
    const all = layoutFlame(tree, vp, 0);
    const wide = layoutFlame(tree, vp, 3);
    expect(all.length).toBe(tree.length);
    expect(Array.from(wide.node.slice(0, wide.length)).map((i) => nodeName(tree, i))).toEqual([
      'total',
      'main',
      'parse',
      'render',
    ]);
    expect(wide.cssPxY[2]).toBe(36);
  });
});

describe('hitTest and navigation', () => {
  const vp: Viewport = { startTicks: 0, endTicks: 20, cssPxWidth: 200, cssPxRowHeight: 10, inverted: false };
  it('finds the node under a pixel', () => {
    expect(nodeName(tree, hitTest(tree, vp, 5, 15))).toBe('gc');
    expect(nodeName(tree, hitTest(tree, vp, 105, 25))).toBe('parse');
    expect(hitTest(tree, vp, 50, 25)).toBe(-1); // main's self: no child there
    expect(hitTest(tree, vp, 5, 500)).toBe(-1);
    const flipped = { ...vp, inverted: true };
    expect(nodeName(tree, hitTest(tree, flipped, 5, 35))).toBe('total');
  });

  it('zooms around the cursor and pans within the tree', () => {
    expect(zoomAround(vp, 20, 100, 0.5)).toEqual({ startTicks: 5, endTicks: 15 });
    expect(zoomAround(vp, 20, 0, 0.5)).toEqual({ startTicks: 0, endTicks: 10 });
    expect(zoomAround(vp, 20, 100, 4)).toEqual({ startTicks: 0, endTicks: 20 });
    const zoomed = { ...vp, startTicks: 5, endTicks: 15 };
    expect(panBy(zoomed, 20, 100)).toEqual({ startTicks: 0, endTicks: 10 });
    expect(panBy(zoomed, 20, -40)).toEqual({ startTicks: 7, endTicks: 17 });
  });
});
