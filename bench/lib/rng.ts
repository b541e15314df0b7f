// The seeded PRNG every benchmark draws its synthetic data from, so each run generates the same data
// (core's mulberry32, shared with the UI's synthetic trees).
export { seededRandom as rng } from '@hotpath/core';
