// Tests and fixture scripts run in Node and read files; core's own sources must not (see
// framework-free.test.ts, which fails on any `node:` import or DOM global under src/).
/// <reference types="node" />
