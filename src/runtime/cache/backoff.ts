/** Exponential backoff with jitter: initial, doubling up to max; reset() after a success. */
export class Backoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  #current: number;

  constructor(initialMs: number, maxMs: number) {
    this.#initialMs = initialMs;
    this.#maxMs = maxMs;
    this.#current = initialMs;
  }

  next(): number {
    const delay = this.#current * (0.8 + Math.random() * 0.4);
    this.#current = Math.min(this.#maxMs, this.#current * 2);
    return Math.round(Math.min(this.#maxMs, delay));
  }

  reset(): void {
    this.#current = this.#initialMs;
  }
}
