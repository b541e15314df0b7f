// Entry of flame-pool.ts's worker threads when running from the sources: loads flame-worker.ts
// through tsx's loader, as packages/cli/bin/hotpath.js does. The packed build puts the compiled
// flame-worker.ts under this name instead.
import { register } from 'tsx/esm/api';

register();
await import('./flame-worker.ts');
