// Deliveries an impairment delays, run in the order of their due times (ties in the order scheduled),
// from one timer. A setTimeout per frame does not keep that order: Node groups timers by their duration
// and measures from a clock cached per loop turn, so of two frames delayed by "30 ms" in one batch, the
// later one (a slightly shorter duration from the same cached start) could leave first.
interface Due {
  readonly at: number;
  readonly go: () => void;
}

export class DeliveryTimer {
  /** Sorted by `at`; entries before `#head` have run (compacted now and then). */
  #due: Due[] = [];
  #head = 0;
  #timer: NodeJS.Timeout | undefined;
  #armedFor = Number.POSITIVE_INFINITY;

  constructor(private readonly now: () => number = () => performance.now()) {}

  get pending(): number {
    return this.#due.length - this.#head;
  }

  /** Runs `go` at `at` (a time of `now`), after everything due earlier or at the same time. */
  at(at: number, go: () => void): void {
    // Due times mostly grow (a delay, a rate), so search from the end.
    let i = this.#due.length;
    while (i > this.#head && (this.#due[i - 1] as Due).at > at) i--;
    this.#due.splice(i, 0, { at, go });
    if (at < this.#armedFor) this.#arm();
  }

  close(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#due = [];
    this.#head = 0;
  }

  #arm(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedFor = Number.POSITIVE_INFINITY;
    const next = this.#due[this.#head];
    if (!next) return;
    this.#armedFor = next.at;
    this.#timer = setTimeout(() => this.#fire(), Math.max(0, next.at - this.now()));
  }

  #fire(): void {
    this.#timer = undefined;
    this.#armedFor = Number.POSITIVE_INFINITY;
    // Timers have millisecond granularity: what is due within half a millisecond goes now.
    const until = this.now() + 0.5;
    while (this.#head < this.#due.length && (this.#due[this.#head] as Due).at <= until) {
      (this.#due[this.#head++] as Due).go();
    }
    if (this.#head > 1024 && this.#head * 2 > this.#due.length) {
      this.#due = this.#due.slice(this.#head);
      this.#head = 0;
    }
    this.#arm();
  }
}
