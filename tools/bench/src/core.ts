// `npm run bench -- core [--max-members=5000]`: the MLS engine of @sotto/core.
// 1. encrypt + decrypt of a 200-byte application message, against the bare native primitives such a message
//    needs (one Ed25519 sign + verify and one AES-128-GCM seal + open, keys imported once), and the ratio of
//    their medians (and of the CPU time each batch took, steadier when others load the machine);
// 2. commit create and process (an empty commit with a fresh UpdatePath) at 10, 100, 1000 and 5000 members,
//    the group built with one big commit adding everyone, so each commit encrypts to all N-1 other leaves
//    (building the 5,000-member group takes well under a minute since the ts-mls patch seals its Welcome in
//    linear time; it took 354 s before).
//    Each figure comes as wall time and as the process's CPU time for the call.
import {
  createCipheriv,
  createDecipheriv,
  createSecretKey,
  generateKeyPairSync,
  randomBytes,
  sign,
  verify,
} from "node:crypto";
import { encryptMessage, processMessage, updateConversation } from "@sotto/core";
import { emit, mean, percentile, profiled, round, sample } from "./report.js";
import { buildGroup } from "./support/groups.js";

/** CPU time (user + system, all threads) of this process, in milliseconds. */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** One round of the bare primitives a message needs, keys imported once. */
function nativeRound() {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const key = createSecretKey(randomBytes(16));
  const aad = randomBytes(64);
  const plaintext = randomBytes(200);
  return () => {
    const nonce = randomBytes(12);
    const cipher = createCipheriv("aes-128-gcm", key, nonce).setAAD(aad);
    const sealed = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const tag = cipher.getAuthTag();
    const signature = sign(null, sealed, privateKey);
    if (!verify(null, sealed, publicKey, signature)) throw new Error("verify failed");
    const decipher = createDecipheriv("aes-128-gcm", key, nonce).setAAD(aad).setAuthTag(tag);
    Buffer.concat([decipher.update(sealed), decipher.final()]);
  };
}

/** One encrypt + decrypt of a 200-byte message between two members, states carried from call to call. */
async function messageRound() {
  let { creator, member } = await buildGroup(2);
  const data = new TextEncoder().encode("m".repeat(200));
  return async () => {
    const sent = await encryptMessage(creator, data);
    creator = sent.conversation;
    const received = await processMessage(member, { bytes: sent.message });
    if (!received.ok) throw received.error;
    member = received.value.conversation;
  };
}

async function commitCost(size: number, iterations: number, budgetMs: number) {
  const t0 = performance.now();
  const group = await buildGroup(size);
  const buildMs = performance.now() - t0;
  let { creator, member } = group;
  const create: number[] = [];
  const processed: number[] = [];
  const createCpu: number[] = [];
  const processCpu: number[] = [];
  const start = performance.now();
  await profiled(`core-commit-${size}`, async () => {
    for (let i = 0; i < iterations && (i < 2 || performance.now() - start < budgetMs); i++) {
      let t = performance.now();
      let c = cpuMs();
      const outcome = await updateConversation({ ...group.ctx, time: new Date() }, creator);
      create.push(performance.now() - t);
      createCpu.push(cpuMs() - c);
      creator = outcome.conversation;
      t = performance.now();
      c = cpuMs();
      const received = await processMessage(member, { bytes: outcome.commit, published: outcome.published });
      processed.push(performance.now() - t);
      processCpu.push(cpuMs() - c);
      if (!received.ok) throw received.error;
      member = received.value.conversation;
    }
  });
  return { buildMs, create, processed, createCpu, processCpu };
}

export async function main(args: string[]): Promise<void> {
  const maxMembers = Number(args.find((a) => a.startsWith("--max-members="))?.split("=")[1] ?? 5000);
  // The machine is shared: MLS and native batches alternate so both see the same load, and medians compare.
  const message = await messageRound();
  const native = nativeRound();
  await sample(300, message); // warm-up: JIT, key caches
  await sample(300, native);
  const mls: number[] = [];
  const bare: number[] = [];
  let mlsCpu = 0;
  let bareCpu = 0;
  await profiled("core-message", async () => {
    for (let batch = 0; batch < 10; batch++) {
      let c = cpuMs();
      mls.push(...(await sample(200, message)));
      mlsCpu += cpuMs() - c;
      c = cpuMs();
      bare.push(...(await sample(200, native)));
      bareCpu += cpuMs() - c;
    }
  });
  const mlsMs = percentile(mls, 50);
  const nativeMs = percentile(bare, 50);
  emit({
    bench: "core",
    case: "message_200B",
    what: "encryptMessage + processMessage of 200 bytes (suite 1, node:crypto provider)",
    iterations: mls.length,
    p50_ms: round(mlsMs, 4),
    mean_ms: round(mean(mls), 4),
    p99_ms: round(percentile(mls, 99), 3),
    cpu_ms: round(mlsCpu / mls.length, 4),
  });
  emit({
    bench: "core",
    case: "native_baseline",
    what: "Ed25519 sign+verify + AES-128-GCM seal+open of 200 bytes, node:crypto, keys imported once",
    iterations: bare.length,
    p50_ms: round(nativeMs, 4),
    mean_ms: round(mean(bare), 4),
    p99_ms: round(percentile(bare, 99), 3),
    cpu_ms: round(bareCpu / bare.length, 4),
  });
  const headline: Record<string, unknown> = {
    bench: "core",
    message_p50_ms: round(mlsMs, 4),
    native_p50_ms: round(nativeMs, 4),
    ratio: round(mlsMs / nativeMs, 2),
    ratio_of_means: round(mean(mls) / mean(bare), 2),
    ratio_cpu: round(mlsCpu / bareCpu, 2),
  };
  for (const [size, rounds, budgetMs] of [
    [10, 30, 10_000],
    [100, 10, 20_000],
    [1000, 7, 30_000],
    [5000, 3, 60_000],
  ] as const) {
    if (size > maxMembers) continue;
    const { buildMs, create, processed, createCpu, processCpu } = await commitCost(size, rounds, budgetMs);
    emit({
      bench: "core",
      case: `commit_${size}`,
      what: `empty commit with UpdatePath, group of ${size} devices built by one commit adding all`,
      build_ms: round(buildMs, 0),
      rounds: create.length,
      create_mean_ms: round(mean(create), 1),
      create_p50_ms: round(percentile(create, 50), 1),
      create_cpu_p50_ms: round(percentile(createCpu, 50), 1),
      process_mean_ms: round(mean(processed), 1),
      process_p50_ms: round(percentile(processed, 50), 1),
      process_cpu_p50_ms: round(percentile(processCpu, 50), 1),
    });
    headline[`group_build_${size}_s`] = round(buildMs / 1000, 1);
    headline[`commit_create_${size}_p50_ms`] = round(percentile(create, 50), 1);
    headline[`commit_process_${size}_p50_ms`] = round(percentile(processed, 50), 1);
    headline[`commit_create_${size}_cpu_ms`] = round(percentile(createCpu, 50), 1);
    headline[`commit_process_${size}_cpu_ms`] = round(percentile(processCpu, 50), 1);
  }
  emit(headline);
}
