// Importers and exporters, one module per format (registry.ts lists them in sniffing order).
export {
  importProfile,
  sniffFormat,
  sniffHead,
  FORMAT_NAMES,
  SNIFFERS,
  SNIFF_BYTES,
  type ImportOptions,
} from './registry.ts';
export { decodePprof, importPprof, sniffPprof, type PprofDecodeOptions } from './pprof.ts';
export { encodePprof, encodePprofGzip, type PprofEncodeOptions } from './pprof-encode.ts';
export { pprofMetricName } from './pprof-metric.ts';
export {
  importFolded,
  sniffFolded,
  exportFolded,
  FOLDED_DEFAULT_TYPE,
  type TextImportOptions,
} from './folded.ts';
export { importLines, sniffLines } from './lines.ts';
export { importSpeedscope, sniffSpeedscope, exportSpeedscope, SPEEDSCOPE_SCHEMA } from './speedscope.ts';
export { importTrie, sniffTrie, exportTrie } from './trie.ts';
export { importTree, sniffTree, exportTree } from './tree.ts';
export { exportDot, type DotOptions } from './dot.ts';
export { gunzipCapped, gzipBytes, isGzip, DEFAULT_MAX_DECOMPRESSED_BYTES } from './gzip.ts';
export { ByteWriter } from './proto.ts';
