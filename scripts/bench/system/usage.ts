/**
 * CPU and memory of each process, read from /proc (Linux) without extra packages: CPU time from
 * /proc/<pid>/stat (utime + stime, in clock ticks), RSS from /proc/<pid>/status. A service restarted
 * during a fault run has a new pid; its CPU is summed over every pid it had.
 */
import { readFile } from 'node:fs/promises';

/** Clock ticks per second of /proc/<pid>/stat; 100 on every Linux this runs on (getconf CLK_TCK). */
const CLOCK_TICKS = 100;

export interface ProcessSample {
  cpuSeconds: number;
  rssMb: number;
}

export async function sampleProcess(pid: number): Promise<ProcessSample | undefined> {
  try {
    const [stat, status] = await Promise.all([
      readFile(`/proc/${pid}/stat`, 'utf8'),
      readFile(`/proc/${pid}/status`, 'utf8'),
    ]);
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14, 15)
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
    return { cpuSeconds: ticks / CLOCK_TICKS, rssMb: kb / 1024 };
  } catch {
    return undefined; // the process is gone (killed in a fault run)
  }
}

export interface UsageSummary {
  /** CPU seconds used inside the window, over all pids. */
  cpuSeconds: number;
  /** Average share of one core inside the window. */
  cpuPercent: number;
  rssMbLast: number;
  rssMbPeak: number;
}

/** Samples named processes every intervalMs between start() and stop(). */
export class UsageSampler {
  private timer: NodeJS.Timeout | undefined;
  private started = 0;
  private stopped = 0;
  /** By name, by pid: CPU seconds at the first and latest sample. */
  private readonly cpu = new Map<string, Map<number, { first: number; last: number }>>();
  private readonly rss = new Map<string, { last: number; peak: number }>();

  constructor(
    private readonly pids: () => Partial<Record<string, number>>,
    private readonly intervalMs = 2000,
  ) {}

  async sample(initial = false): Promise<void> {
    for (const [name, pid] of Object.entries(this.pids())) {
      if (!pid) continue;
      const s = await sampleProcess(pid);
      // Gone, or exiting (no VmRSS any more): one NaN would spoil the peak for good.
      if (!s || !Number.isFinite(s.rssMb)) continue;
      const byPid = this.cpu.get(name) ?? new Map();
      this.cpu.set(name, byPid);
      const seen = byPid.get(pid);
      // A pid first seen after the window opened started inside it (a restart): count its CPU from 0.
      byPid.set(pid, { first: seen?.first ?? (initial ? s.cpuSeconds : 0), last: s.cpuSeconds });
      const r = this.rss.get(name) ?? { last: 0, peak: 0 };
      this.rss.set(name, { last: s.rssMb, peak: Math.max(r.peak, s.rssMb) });
    }
  }

  async start(): Promise<void> {
    this.started = Date.now();
    await this.sample(true);
    this.timer = setInterval(() => void this.sample(), this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.sample();
    this.stopped = Date.now();
  }

  summary(): Record<string, UsageSummary> {
    const seconds = Math.max(0.001, (this.stopped || Date.now()) - this.started) / 1000;
    const out: Record<string, UsageSummary> = {};
    for (const [name, byPid] of this.cpu) {
      const cpuSeconds = [...byPid.values()].reduce((sum, { first, last }) => sum + (last - first), 0);
      const rss = this.rss.get(name) ?? { last: Number.NaN, peak: Number.NaN };
      out[name] = { cpuSeconds, cpuPercent: (100 * cpuSeconds) / seconds, rssMbLast: rss.last, rssMbPeak: rss.peak };
    }
    return out;
  }
}
