/** Counts of things worth watching (inputs skipped by reason, retries, sends): for status and benchmarks. */
export class Counters {
  readonly #counts = new Map<string, number>();

  add(name: string, n = 1): void {
    this.#counts.set(name, (this.#counts.get(name) ?? 0) + n);
  }

  get(name: string): number {
    return this.#counts.get(name) ?? 0;
  }

  snapshot(): Readonly<Record<string, number>> {
    return Object.fromEntries([...this.#counts].sort(([a], [b]) => a.localeCompare(b)));
  }
}
