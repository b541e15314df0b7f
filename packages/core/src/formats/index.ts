// Importers and exporters, one module per format (registry.ts lists them in sniffing order).
export { decodePprof, importPprof, sniffPprof, type PprofDecodeOptions } from './pprof.ts';
export { encodePprof, encodePprofGzip, type PprofEncodeOptions } from './pprof-encode.ts';
export { pprofMetricName } from './pprof-metric.ts';
export { gunzipCapped, isGzip, DEFAULT_MAX_DECOMPRESSED_BYTES } from './gzip.ts';
