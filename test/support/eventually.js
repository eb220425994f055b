/**
 * The one way tests wait: for a promise, or for a condition polled until it holds. Neither has a
 * deadline, because on a loaded machine (CI: 2 busy cores) any short deadline is a flake; the test
 * runner's per-test timeout (TEST_TIMEOUT_MS in scripts/run-tests.ts) is the single bound that turns a
 * real hang into a failure. A wait that lasts longer than reportAfterMs says on stderr what it still
 * waits for (and, for a condition, where things stand), and again each time as long passes, so a hang
 * is easy to read.
 */
function reporter(what, reportAfterMs, lastSeen) {
    const started = Date.now();
    const timer = setInterval(() => {
        const state = lastSeen?.() ?? '';
        process.stderr.write(`still waiting after ${Date.now() - started} ms for ${what}${state ? `; last seen: ${state}` : ''}\n`);
    }, reportAfterMs);
    timer.unref();
    return () => clearInterval(timer);
}
/** Resolves with what probe returns once it returns something other than undefined. */
export async function eventually(what, probe, reportAfterMs = 5000, options = {}) {
    const stop = reporter(what, reportAfterMs, options.lastSeen);
    try {
        for (;;) {
            const value = await probe();
            if (value !== undefined)
                return value;
            await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 20));
        }
    }
    finally {
        stop();
    }
}
/** Resolves (or rejects) as promise does, reporting when it takes longer than reportAfterMs. */
export async function settles(promise, what, reportAfterMs = 5000) {
    const stop = reporter(what, reportAfterMs);
    try {
        return await promise;
    }
    finally {
        stop();
    }
}
//# sourceMappingURL=eventually.js.map