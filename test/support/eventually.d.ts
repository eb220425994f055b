/**
 * The one way tests wait: for a promise, or for a condition polled until it holds. Neither has a
 * deadline, because on a loaded machine (CI: 2 busy cores) any short deadline is a flake; the test
 * runner's per-test timeout (TEST_TIMEOUT_MS in scripts/run-tests.ts) is the single bound that turns a
 * real hang into a failure. A wait that lasts longer than reportAfterMs says on stderr what it still
 * waits for (and, for a condition, where things stand), and again each time as long passes, so a hang
 * is easy to read.
 */
export interface WaitOptions {
    /** How often to poll a condition (default 20 ms). */
    intervalMs?: number;
    /** Where things stand, for the still-waiting report. */
    lastSeen?: () => string;
}
/** Resolves with what probe returns once it returns something other than undefined. */
export declare function eventually<T>(what: string, probe: () => Promise<T | undefined>, reportAfterMs?: number, options?: WaitOptions): Promise<T>;
/** Resolves (or rejects) as promise does, reporting when it takes longer than reportAfterMs. */
export declare function settles<T>(promise: Promise<T>, what: string, reportAfterMs?: number): Promise<T>;
//# sourceMappingURL=eventually.d.ts.map