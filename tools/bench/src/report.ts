// Every benchmark prints one JSON object per line; the last line holds its headline figures.
export function emit(record: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(record)}\n`);
}

/** Runs `fn` `n` times and returns the per-call timings in milliseconds. */
export async function sample(n: number, fn: (i: number) => unknown | Promise<unknown>): Promise<number[]> {
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn(i);
    out[i] = performance.now() - t;
  }
  return out;
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] as number;
}

export function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** Rounds for printing: 3 significant decimals are plenty on a noisy machine. */
export function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Node arguments that make a child process write a V8 CPU profile into SOTTO_BENCH_PROFILE when it exits. */
export function profileArgs(): string[] {
  const profile = process.env.SOTTO_BENCH_PROFILE;
  return profile ? ["--cpu-prof", `--cpu-prof-dir=${profile}`, "--cpu-prof-interval=250"] : [];
}

/**
 * Runs `fn`; with SOTTO_BENCH_PROFILE=<dir> set, under the V8 CPU profiler, writing `<dir>/<name>.cpuprofile`
 * (open it in Chrome DevTools or speedscope). Only the measured phase is profiled, not its setup. With
 * SOTTO_BENCH_HEAP_PROFILE=1 as well, V8's sampling heap profiler records every allocation of the phase, the
 * ones collected since included, in `<dir>/<name>.heapprofile`: where the garbage collector's work comes from.
 */
export async function profiled<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const dir = process.env.SOTTO_BENCH_PROFILE;
  if (dir === undefined || dir === "") return fn();
  const heap = process.env.SOTTO_BENCH_HEAP_PROFILE === "1";
  const { Session } = await import("node:inspector/promises");
  const { mkdirSync, writeFileSync } = await import("node:fs");
  mkdirSync(dir, { recursive: true });
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: 200 });
  if (heap) {
    await session.post("HeapProfiler.enable");
    await session.post("HeapProfiler.startSampling", {
      samplingInterval: 4096,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
  }
  await session.post("Profiler.start");
  try {
    return await fn();
  } finally {
    const { profile } = await session.post("Profiler.stop");
    writeFileSync(`${dir}/${name}.cpuprofile`, JSON.stringify(profile));
    if (heap) {
      const sampled = await session.post("HeapProfiler.stopSampling");
      writeFileSync(`${dir}/${name}.heapprofile`, JSON.stringify(sampled.profile));
    }
    session.disconnect();
  }
}
