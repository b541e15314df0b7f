// The metric name "Track this function" proposes: Prometheus grammar from a service, a frame name and
// a profile type.
import { describe, expect, it } from 'vitest';
import { suggestMetricName } from './Rules.tsx';

const CPU = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';

describe('suggestMetricName', () => {
  it.each([
    ['ride-sharing-app', 'find_nearest_vehicle', CPU, 'ride_sharing_app_find_nearest_vehicle_cpu'],
    ['ride-sharing-app', 'lib.server.find_nearest_vehicle', CPU, 'ride_sharing_app_find_nearest_vehicle_cpu'],
    ['app', 'handle (server.py:12)', 'memory:alloc_space:bytes:space:bytes', 'app_handle_alloc_space'],
    ['9lives', 'main', CPU, 'p_9lives_main_cpu'],
    ['app', 'std::vector<int>::push_back', CPU, 'app_push_back_cpu'],
  ])('%s + %s → %s', (service, fn, type, expected) => {
    expect(suggestMetricName(service, fn, type)).toBe(expected);
  });
});
