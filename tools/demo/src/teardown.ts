/**
 * What to stop, in reverse order of starting (daemons before the server they talk to). Something registered
 * after `run()` began (a start-up step still finishing when Ctrl-C came) is stopped at once.
 */
export class Teardown {
  readonly #steps: { name: string; stop: () => Promise<unknown> }[] = [];
  readonly #report: (line: string) => void;
  #running: Promise<void> | undefined;

  constructor(report: (line: string) => void) {
    this.#report = report;
  }

  defer(name: string, stop: () => Promise<unknown>): void {
    if (this.#running) {
      void this.#stopOne({ name, stop });
      return;
    }
    this.#steps.push({ name, stop });
  }

  run(): Promise<void> {
    this.#running ??= (async () => {
      for (const step of this.#steps.reverse()) await this.#stopOne(step);
    })();
    return this.#running;
  }

  async #stopOne(step: { name: string; stop: () => Promise<unknown> }): Promise<void> {
    try {
      const result = await step.stop();
      this.#report(`stopped ${step.name}${typeof result === "number" ? ` (exit ${result})` : ""}`);
    } catch (error) {
      this.#report(`stopping ${step.name} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
