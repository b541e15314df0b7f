// The numbers each "What changed?" row shows: which detail of the answer backs which kind of finding.
import { describe, expect, it } from 'vitest';
import type { WhatChangedAnswer } from '../api.ts';
import { unitsOfProfileType } from '../format.ts';
import { sharesOf } from './Changes.tsx';

const CPU = unitsOfProfileType('process_cpu:cpu:nanoseconds:cpu:nanoseconds');
const side = { labelSelector: '{service_name="app"}', start: '0', end: '1' };
const answer: WhatChangedAnswer = {
  minZ: 5,
  minShareDelta: 0.02,
  minSamples: 20,
  grew: [
    { name: 'mutex_lock', baseTotalShare: 0.05, headTotalShare: 0.3, baseSamples: 40, headSamples: 600 },
  ],
  outliers: [
    {
      label: 'region',
      value: 'eu-north',
      function: 'mutex_lock',
      valueShare: 0.44,
      othersShare: 0,
      samples: 868,
    },
  ],
  periods: [{ label: 'vehicle', value: 'car', function: 'mutex_lock', slowShare: 0.5, fastShare: 0.1 }],
  totalChange: { baseValue: 10e9, headValue: 25e9, ratio: 2.5 },
};
const finding = (kind: string, fn: string, label?: string, value?: string) => ({
  kind,
  function: fn,
  ...(label ? { label, value } : {}),
  text: '',
  left: side,
  right: side,
});

describe('sharesOf', () => {
  it('changed function: its share of the total, baseline → selection, with both sample counts', () => {
    expect(sharesOf(finding('changed', 'mutex_lock'), answer, CPU)).toEqual({
      before: '5.00%',
      after: '30.00%',
      sides: 'of the total, baseline → selection',
      samples: '40 → 600 samples',
    });
  });
  it('whole cost: its value, baseline → selection', () => {
    expect(sharesOf(finding('changed', ''), answer, CPU)).toMatchObject({ before: '10 s', after: '25 s' });
  });
  it('outlier: the other values → this value, with its samples', () => {
    expect(sharesOf(finding('outlier', 'mutex_lock', 'region', 'eu-north'), answer, CPU)).toEqual({
      before: '0.00%',
      after: '44.00%',
      sides: 'other region values → region=eu-north',
      samples: '868 samples',
    });
  });
  it("periods: the value's fast periods → its slow ones", () => {
    expect(sharesOf(finding('periods', 'mutex_lock', 'vehicle', 'car'), answer, CPU)).toMatchObject({
      before: '10.00%',
      after: '50.00%',
      sides: 'of vehicle=car, its fast periods → its slow ones',
    });
  });
  it('no detail behind a finding: no numbers', () => {
    expect(sharesOf(finding('changed', 'gc'), answer, CPU)).toBeNull();
  });
});
