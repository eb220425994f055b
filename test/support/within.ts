/**
 * Waits for promise, naming it: kept under this name for the many tests that use it. There is no
 * deadline (see eventually.ts): after ms, the wait is reported on stderr, and the test runner's
 * per-test timeout is the only bound.
 */
export { settles as within } from './eventually.js';
