/** A named dependency check; it throws (or rejects) when the dependency is not usable. */
export type ReadinessCheck = () => Promise<void>;

export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, 'ok' | string>;
}

export interface CheckOptions {
  /**
   * Whether a failure makes the service unready. Dependencies whose outage the service answers for
   * itself (the gateway answers UNAVAILABLE for a down backend) are reported but not critical, so one
   * backend's outage does not take every replica out of the load balancer.
   */
  critical?: boolean;
}

/**
 * Readiness from real dependency checks, never a constant. Draining makes a service unready
 * at once, so load balancers stop sending work before it exits.
 */
export class Readiness {
  private readonly checks = new Map<string, { check: ReadinessCheck; critical: boolean }>();
  private draining = false;

  constructor(private readonly timeoutMs = 2000) {}

  add(name: string, check: ReadinessCheck, options: CheckOptions = {}): this {
    this.checks.set(name, { check, critical: options.critical ?? true });
    return this;
  }

  startDraining(): void {
    this.draining = true;
  }

  async evaluate(): Promise<ReadinessReport> {
    const checks: Record<string, string> = {};
    let ready = !this.draining;
    if (this.draining) checks.shutdown = 'draining';
    await Promise.all(
      [...this.checks].map(async ([name, { check, critical }]) => {
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            check(),
            new Promise((_, reject) => {
              timer = setTimeout(() => reject(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
            }),
          ]);
          checks[name] = 'ok';
        } catch (error) {
          checks[name] = error instanceof Error ? error.message : String(error);
          if (critical) ready = false;
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    return { ready, checks };
  }
}
