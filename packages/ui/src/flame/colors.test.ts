import { describe, expect, it } from 'vitest';
import { diffColor, diffIntensity, packageColor, packageOf } from './colors.ts';

describe('packageOf', () => {
  it.each([
    ['github.com/grafana/pyroscope/pkg/model.(*Tree).Add', 'github.com/grafana/pyroscope/pkg/model'],
    ['lib.utility.utility.find_nearest_vehicle', 'lib.utility.utility'],
    ['std::vec::Vec::push', 'std::vec::Vec'],
    ['/app/server.py order_car', '/app/server.py'],
    ['main', 'main'],
  ])('%s → %s', (name, pkg) => expect(packageOf(name)).toBe(pkg));

  it('gives frames of one package one colour', () => {
    expect(packageColor('lib.car.order', 'light')).toBe(packageColor('lib.car.drive', 'light'));
    expect(packageColor('lib.car.order', 'light')).not.toBe(packageColor('lib.car.order', 'dark'));
  });
});

describe('frame kinds', () => {
  it('native and kernel frames get their own cool colours; Python frames keep the warm palette', () => {
    const hue = (name: string) => Number(/^hsl\((\d+)/.exec(packageColor(name, 'light'))![1]);
    expect(hue('_PyEval_EvalFrameDefault [native]')).toBe(hue('libssl.so.3+0x1a2b [native]'));
    expect(hue('do_syscall_64 [kernel]')).not.toBe(hue('memcpy [native]'));
    for (const name of ['memcpy [native]', 'do_syscall_64 [kernel]', 'runtime.mallocgc [go]'])
      expect(hue(name)).toBeGreaterThan(180);
    const warm = (h: number) => h <= 60 || h >= 340;
    expect(['order_car', 'lib.car.order', 'handle_request', 'main'].map(hue).every(warm)).toBe(true);
  });
});

describe('diff colours', () => {
  it('relative: change of share relative to the baseline share', () => {
    // baseline share 10/100 = 0.1, comparison share 30/200 = 0.15 → +50 %.
    expect(diffIntensity(10, 30, 100, 200, 'relative')).toBeCloseTo(0.5);
    expect(diffIntensity(10, 5, 100, 100, 'relative')).toBeCloseTo(-0.5);
    expect(diffIntensity(0, 5, 100, 100, 'relative')).toBe(1);
    expect(diffIntensity(10, 0, 100, 100, 'relative')).toBe(-1);
  });

  it('absolute: change of share in points, scaled', () => {
    expect(diffIntensity(10, 30, 100, 100, 'absolute', 0.4)).toBeCloseTo(0.5);
    expect(diffIntensity(30, 10, 100, 100, 'absolute', 0.1)).toBe(-1);
  });

  it('red for slower, green for faster, grey for unchanged', () => {
    expect(diffColor(1, 'light')).toBe('rgb(230,60,60)');
    expect(diffColor(-1, 'light')).toBe('rgb(70,190,100)');
    expect(diffColor(0, 'light')).toBe('rgb(200,200,206)');
    expect(diffColor(0.02, 'light')).toBe('rgb(200,200,206)');
  });
});
