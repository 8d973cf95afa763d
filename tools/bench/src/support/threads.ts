// Per-thread CPU of a process (this one by default) from /proc (Linux; elsewhere empty): which thread a pipeline
// waits on.
import { readdirSync, readFileSync } from "node:fs";

/** CPU time and time spent runnable but waiting for a core, per thread name, in ms. */
export type ThreadTimes = Record<string, { readonly cpu_ms: number; readonly runqueue_ms: number }>;

interface Sample {
  readonly name: string;
  readonly cpuNs: number;
  readonly waitNs: number;
}

function sample(pid: number | "self"): Map<string, Sample> {
  const threads = new Map<string, Sample>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return threads;
  }
  for (const tid of tids) {
    try {
      const [cpuNs, waitNs] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8")
        .split(" ")
        .map(Number);
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, "utf8").trim();
      threads.set(tid, { name, cpuNs: cpuNs ?? 0, waitNs: waitNs ?? 0 });
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return threads;
}

/** Starts measuring; the function it returns gives each thread name's time since (threads of a name summed). */
export function threadTimes(pid: number | "self" = "self"): () => ThreadTimes {
  const before = sample(pid);
  return () => {
    const sums: Record<string, { cpu_ms: number; runqueue_ms: number }> = {};
    for (const [tid, now] of sample(pid)) {
      const then = before.get(tid);
      const sum = sums[now.name] ?? { cpu_ms: 0, runqueue_ms: 0 };
      sums[now.name] = sum;
      sum.cpu_ms += Math.round((now.cpuNs - (then?.cpuNs ?? 0)) / 1e6);
      sum.runqueue_ms += Math.round((now.waitNs - (then?.waitNs ?? 0)) / 1e6);
    }
    return sums;
  };
}
