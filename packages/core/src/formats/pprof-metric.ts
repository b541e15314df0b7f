// The Pyroscope `__name__` of a pprof: Grafana Pyroscope pkg/og/convert/pprof/profile.go, as
// summarised in the compatibility spec §1.6. The server stores one series per sample type, all
// sharing this metric name.

/** Built-in display names Pyroscope substitutes when the client sent none. */
const DEFAULT_DISPLAY_NAMES: Readonly<Record<string, string>> = {
  samples: 'cpu',
  goroutine: 'goroutines',
  contentions: 'mutex_count',
  delay: 'mutex_duration',
};

/**
 * `sampleTypes` are the pprof sample type names in file order; `displayNames` maps a sample type
 * to its `display-name` from a sample_type_config. Examples:
 *   ['samples', 'cpu'] → 'process_cpu'; ['alloc_objects', ...] → 'memory'; ['sample', 'wall'] → 'wall'.
 */
export function pprofMetricName(
  sampleTypes: readonly string[],
  displayNames: Readonly<Record<string, string>> = {},
): string {
  if (sampleTypes.includes('wall')) return 'wall';
  for (const t of sampleTypes) {
    const name = displayNames[t] ?? DEFAULT_DISPLAY_NAMES[t] ?? t;
    if (name.includes('cpu')) return 'process_cpu';
    if (name.includes('alloc_') || name.includes('inuse_') || name === 'space' || name === 'objects')
      return 'memory';
    if (name.includes('mutex_')) return 'mutex';
    if (name.includes('block_')) return 'block';
    if (name.includes('goroutines')) return 'goroutines';
  }
  return sampleTypes[sampleTypes.length - 1] ?? '';
}
