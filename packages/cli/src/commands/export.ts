// `hotpath export --query ... -o file`: downloads the merged, untruncated profile of a query via
// Connect `POST /querier.v1.QuerierService/SelectMergeProfile` (binary application/proto request;
// the response is a google.v1.Profile, i.e. pprof) and writes it as pprof, folded or speedscope.
// pprof from SelectMergeProfile keeps files, lines and full stacks, which /render's truncated
// flame graph would lose, so it is the faithful source for every output format.
import { decodePprof, type Profile } from '@hotpath/core';
import {
  choice,
  CliError,
  requireString,
  runCommand,
  writeOutput,
  type CommandSpec,
  type ParsedArgs,
} from '../args.ts';
import type { Command } from '../command.ts';
import { encodeAs } from './convert.ts';
import { httpRequest, parseTime, SERVER_OPTIONS, serverUrl, splitQuery } from './query.ts';

const textEncoder = new TextEncoder();

function varint(out: number[], v: bigint): void {
  let x = BigInt.asUintN(64, v);
  while (x >= 0x80n) {
    out.push(Number(x & 0x7fn) | 0x80);
    x >>= 7n;
  }
  out.push(Number(x));
}

/** SelectMergeProfileRequest{profile_typeID=1; label_selector=2; start=3; end=4 (ms)}. */
export function encodeSelectMergeProfileRequest(
  typeId: string,
  selector: string,
  startMs: number,
  endMs: number,
): Uint8Array {
  const out: number[] = [];
  for (const [field, text] of [
    [1, typeId],
    [2, selector],
  ] as const) {
    const bytes = textEncoder.encode(text);
    out.push((field << 3) | 2);
    varint(out, BigInt(bytes.length));
    for (const b of bytes) out.push(b);
  }
  out.push((3 << 3) | 0);
  varint(out, BigInt(startMs));
  out.push((4 << 3) | 0);
  varint(out, BigInt(endMs));
  return Uint8Array.from(out);
}

/**
 * The merged, untruncated profile of a selector and time range (ms) from a server's
 * SelectMergeProfile: the pprof bytes as answered and their decoded profiles.
 */
export async function fetchMergedProfile(
  args: ParsedArgs,
  server: string,
  typeId: string,
  selector: string,
  startMs: number,
  endMs: number,
): Promise<{ bytes: Uint8Array; profiles: Profile[] }> {
  const res = await httpRequest(args, `${server}/querier.v1.QuerierService/SelectMergeProfile`, {
    method: 'POST',
    headers: { 'content-type': 'application/proto' },
    body: encodeSelectMergeProfileRequest(typeId, selector, startMs, endMs),
  });
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (!res.ok)
    throw new CliError(`server answered ${res.status}: ${new TextDecoder().decode(bytes.subarray(0, 500))}`);
  try {
    return { bytes, profiles: decodePprof(bytes) };
  } catch (e) {
    throw new CliError(
      `the server's SelectMergeProfile answer is not a valid pprof: ${(e as Error).message}`,
    );
  }
}

const FORMATS = ['pprof', 'folded', 'speedscope'] as const;

const spec: CommandSpec = {
  name: 'export',
  summary: 'Download the merged profile of a query (SelectMergeProfile) as pprof, folded or speedscope.',
  positionals: [],
  options: {
    ...SERVER_OPTIONS,
    to: { type: 'string', value: 'FORMAT', help: `output format: ${FORMATS.join(', ')}`, default: 'pprof' },
    output: { type: 'string', short: 'o', value: 'FILE', help: 'write here (stdout when absent or -)' },
  },
  details: `Example:
  hotpath export --query 'process_cpu:cpu:nanoseconds:cpu:nanoseconds{service_name="x"}' --from now-1h -o cpu.pb.gz
  go tool pprof -top cpu.pb.gz`,
};

export const exportCommand: Command = {
  name: 'export',
  summary: "download a query's merged profile as pprof, folded or speedscope",
  run: (argv) =>
    runCommand(spec, argv, async (args) => {
      const server = serverUrl(args);
      const { type, selector } = splitQuery(requireString(args, 'query'));
      const format = choice(args, 'to', FORMATS);
      const start = parseTime(requireString(args, 'from'));
      const end = parseTime(requireString(args, 'until'));
      const { bytes, profiles } = await fetchMergedProfile(args, server, type.id, selector, start, end);
      // An empty merge may decode to a profile with no samples; pprof keeps the server's bytes as they are.
      const out = format === 'pprof' ? bytes : encodeAs(format, profiles, { type: type.sampleType });
      await writeOutput(out, args.values.output as string | undefined);
      const count = profiles.reduce((n, p) => n + p.samples.length, 0);
      if (args.values.output !== undefined && args.values.output !== '-') {
        process.stderr.write(`wrote ${args.values.output} (${format}, ${count} samples)\n`);
      }
      return 0;
    }),
};
