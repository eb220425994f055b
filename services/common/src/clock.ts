/**
 * The one clock of every service: time read and timers set through it, so tests move time instead of
 * sleeping (a ManualClock) and production reads the system's (systemClock). Pass a Clock where logic
 * reads time; never read Date.now() inside logic.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** The same instant as a Date, for code that stores or compares Dates. */
  date(): Date;
  /** Runs fn once after ms (a timer that does not keep the process alive); the returned function cancels it. */
  after(ms: number, fn: () => void): () => void;
}

/** setTimeout takes at most 2^31 − 1 ms (about 24.8 days); a longer wait is taken in steps. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** The system's clock and Node timers. Timers are unref'd: a pending one never holds a process open. */
export const systemClock: Clock = {
  now: () => Date.now(),
  date: () => new Date(),
  after(ms, fn) {
    let timer: NodeJS.Timeout;
    const deadline = Date.now() + ms;
    const arm = (wait: number) => {
      timer = setTimeout(
        () => {
          const left = deadline - Date.now();
          if (left > 0) arm(left);
          else fn();
        },
        Math.max(0, Math.min(wait, MAX_TIMER_MS)),
      );
      timer.unref();
    };
    arm(ms);
    return () => clearTimeout(timer);
  },
};

/**
 * A clock that moves only when told to (tests). `advance` runs, in order, every timer that falls due on
 * the way, each seeing the clock at its own due time. Starts at the real time unless given a start.
 */
export class ManualClock implements Clock {
  private time: number;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();
  private nextId = 0;

  constructor(start: number | Date = Date.now()) {
    this.time = typeof start === 'number' ? start : start.getTime();
  }

  readonly now = (): number => this.time;
  readonly date = (): Date => new Date(this.time);

  readonly after = (ms: number, fn: () => void): (() => void) => {
    const id = this.nextId++;
    this.timers.set(id, { at: this.time + Math.max(0, ms), fn });
    return () => this.timers.delete(id);
  };

  /** Timers set and not yet run or cancelled. */
  get pending(): number {
    return this.timers.size;
  }

  /** Moves time forward by ms, running the timers due on the way (and those they set, if due too). */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      let due: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.timers) if (entry[1].at <= end && (!due || entry[1].at < due[1].at)) due = entry;
      if (!due) break;
      this.timers.delete(due[0]);
      this.time = Math.max(this.time, due[1].at);
      due[1].fn();
    }
    this.time = end;
  }

  /** Sets the time (forward or back) without running timers: a wall clock that jumps. */
  set(time: number | Date): void {
    this.time = typeof time === 'number' ? time : time.getTime();
  }
}
