// The function table (PROFILE_FORMAT_FUNCTIONS) and sandwich (PROFILE_FORMAT_SANDWICH) answers of
// SelectMergeStacktraces and Diff (messages in proto/querier/v1/functions.proto): computed from the
// whole merged profile, so a row or a sandwich half never loses what a truncated flame graph folded
// into `other`. Rows are per function name (files merged), as the Drilldown app's top table shows them.

import { create } from '@bufbuild/protobuf';
import {
  buildCallTree,
  getChildren,
  sandwich,
  topTable,
  truncateTree,
  type CallTree,
  type Profile,
} from '@hotpath/core';
import {
  FunctionRowDiffSchema,
  FunctionRowSchema,
  FunctionTableDiffSchema,
  FunctionTableSchema,
  SandwichNodeSchema,
  SandwichReportSchema,
  type FunctionTable,
  type FunctionTableDiff,
  type SandwichNode,
  type SandwichReport,
} from '../gen/querier/v1/functions_pb.ts';
import { drilldownErrors } from './drilldown-errors.ts';
import { ProfileFormat, type SelectMergeStacktracesResponse, type SelectRequest } from './messages.ts';

interface Row {
  readonly name: string;
  readonly self: number;
  readonly total: number;
}

const int64 = (v: number): bigint => BigInt(Math.round(v));

/** Rows per function name; a stack counts once in a name's total even when two files share the name. */
function rowsByName(profile: Profile): Row[] {
  const byName: Profile = {
    ...profile,
    frames: { ...profile.frames, file: profile.frames.name.map(() => '') },
  };
  return topTable(byName).map((r) => ({ name: r.name, self: r.self, total: r.total }));
}

function profileTotal(profile: Profile): number {
  let sum = 0;
  for (let i = 0; i < profile.samples.length; i++) sum += profile.samples.value[i]!;
  return sum;
}

/** Largest total first, then self, then name. */
function byTotal(a: { total: number; self: number; name: string }, b: typeof a): number {
  return b.total - a.total || b.self - a.self || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

/** `limit` rows at most; 0 keeps every row. */
export function functionTableOf(profile: Profile, limit: number): FunctionTable {
  const rows = rowsByName(profile).sort(byTotal);
  const kept = limit > 0 ? rows.slice(0, limit) : rows;
  return create(FunctionTableSchema, {
    total: int64(profileTotal(profile)),
    totalFunctions: BigInt(rows.length),
    functions: kept.map((r) =>
      create(FunctionRowSchema, { name: r.name, self: int64(r.self), total: int64(r.total) }),
    ),
  });
}

/** Both sides' rows joined by name (a side without the function has 0), largest combined total first. */
export function functionTableDiffOf(left: Profile, right: Profile, limit: number): FunctionTableDiff {
  const joined = new Map<string, { name: string; l: Row | undefined; r: Row | undefined }>();
  for (const row of rowsByName(left)) joined.set(row.name, { name: row.name, l: row, r: undefined });
  for (const row of rowsByName(right)) {
    const j = joined.get(row.name);
    if (j === undefined) joined.set(row.name, { name: row.name, l: undefined, r: row });
    else j.r = row;
  }
  const rows = [...joined.values()]
    .map((j) => ({
      ...j,
      total: (j.l?.total ?? 0) + (j.r?.total ?? 0),
      self: (j.l?.self ?? 0) + (j.r?.self ?? 0),
    }))
    .sort(byTotal);
  const kept = limit > 0 ? rows.slice(0, limit) : rows;
  return create(FunctionTableDiffSchema, {
    leftTotal: int64(profileTotal(left)),
    rightTotal: int64(profileTotal(right)),
    functions: kept.map((j) =>
      create(FunctionRowDiffSchema, {
        name: j.name,
        leftSelf: int64(j.l?.self ?? 0),
        leftTotal: int64(j.l?.total ?? 0),
        rightSelf: int64(j.r?.self ?? 0),
        rightTotal: int64(j.r?.total ?? 0),
      }),
    ),
  });
}

/**
 * Callers and callees of `functionName`, each half rooted at the function and cut to about maxNodes
 * nodes (an `other` node marked truncated stands for what was cut). A function the profile never saw
 * gets zero-valued roots, as Pyroscope answers.
 */
export function sandwichReportOf(profile: Profile, functionName: string, maxNodes: number): SandwichReport {
  const names: string[] = [];
  const nameIndex = new Map<string, number>();
  const indexOf = (name: string): number => {
    let i = nameIndex.get(name);
    if (i === undefined) {
      i = names.length;
      names.push(name);
      nameIndex.set(name, i);
    }
    return i;
  };
  indexOf(functionName);
  const halves = sandwich(profile, functionName);
  const half = (p: Profile): SandwichNode => {
    const tree = maxNodes > 0 ? truncateTree(buildCallTree(p), maxNodes) : buildCallTree(p);
    // The call tree's root is "total"; its child, when there is one, is the function.
    const root = getChildren(tree, 0).find((c) => tree.name[c] === functionName);
    if (root === undefined) return create(SandwichNodeSchema, { nameIndex: 0 });
    return nodeOf(tree, root, indexOf);
  };
  const row = rowsByName(profile).find((r) => r.name === functionName);
  return create(SandwichReportSchema, {
    total: int64(row?.total ?? 0),
    self: int64(row?.self ?? 0),
    callers: half(halves.callers),
    callees: half(halves.callees),
    names,
  });
}

function nodeOf(tree: CallTree, n: number, indexOf: (name: string) => number): SandwichNode {
  const synthetic = tree.name[n] === 'other' && n !== 0;
  return create(SandwichNodeSchema, {
    nameIndex: indexOf(tree.name[n]!),
    total: int64(tree.total[n]!),
    self: int64(tree.self[n]!),
    truncated: synthetic,
    children: Array.from(getChildren(tree, n), (c) => nodeOf(tree, c, indexOf)),
  });
}

/** The PROFILE_FORMAT_FUNCTIONS or PROFILE_FORMAT_SANDWICH answer of SelectMergeStacktraces. */
export function projectionOf(
  profile: Profile,
  req: Pick<SelectRequest, 'format' | 'sandwichFunction'>,
  maxNodes: number,
): SelectMergeStacktracesResponse {
  if (req.format === ProfileFormat.Functions) return { functions: functionTableOf(profile, maxNodes) };
  if (!req.sandwichFunction) throw drilldownErrors.missingSandwichFunction();
  return { sandwich: sandwichReportOf(profile, req.sandwichFunction, maxNodes) };
}

/** Whether a SelectMergeStacktraces format is answered by projectionOf. */
export function isProjection(format: ProfileFormat): boolean {
  return format === ProfileFormat.Functions || format === ProfileFormat.Sandwich;
}
