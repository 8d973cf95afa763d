import {
  endorseKeyPackage,
  generateKeyPackages,
  type OwnKeyPackage,
  writeKeyPackageObject,
} from "@sotto/core";
import type { KeyPackageSecret } from "@sotto/storage";
import type { DaemonContext } from "./context.js";
import { retireKeyPackage } from "./inbound.js";
import { errorFields } from "./log.js";
import { Serial } from "./serial.js";

export interface KeyPackagePoolOptions {
  /** Single-use KeyPackages kept published (a last-resort one is added). */
  readonly size: number;
  /** KeyPackages are replaced this long before they expire. */
  readonly rotateBeforeMs: number;
  readonly lifetimeSeconds?: number;
}

export const defaultPoolOptions: KeyPackagePoolOptions = { size: 5, rotateBeforeMs: 7 * 24 * 3600_000 };

const PUBLIC = "https://www.w3.org/ns/activitystreams#Public";

/**
 * Keeps this device's KeyPackages published: `size` single-use ones plus a last-resort one. Private parts are
 * stored before anything is published (a crash in between leaves a package to publish next time, never a
 * published package without its keys). Each goes out as `Create` then `Add` to the `keyPackages` collection;
 * consumed ones are retired (Remove + Delete, queued with the Welcome's transaction) and replaced here;
 * packages close to expiry are retired and replaced too, their private parts kept until they expire for
 * Welcomes already on their way.
 */
export class KeyPackagePool {
  readonly #ctx: DaemonContext;
  readonly #options: KeyPackagePoolOptions;
  /** Rounds never overlap (a Welcome's wake-up may meet a timed round): each sees what the last published. */
  readonly #rounds = new Serial();

  constructor(ctx: DaemonContext, options: Partial<KeyPackagePoolOptions> = {}) {
    this.#ctx = ctx;
    this.#options = { ...defaultPoolOptions, ...options };
  }

  /** One round of upkeep; returns how many packages it published. */
  maintain(signal?: AbortSignal): Promise<number> {
    return this.#rounds.run(() => this.#maintain(signal));
  }

  async #maintain(signal?: AbortSignal): Promise<number> {
    const ctx = this.#ctx;
    const now = ctx.now();
    const all = ctx.store.keyPackages();
    const expired = all.filter((kp) => kp.expiresAt !== undefined && kp.expiresAt <= now);
    const retiring = all.filter(
      (kp) =>
        kp.expiresAt !== undefined &&
        kp.expiresAt > now &&
        kp.expiresAt - now < this.#options.rotateBeforeMs &&
        kp.objectId !== undefined &&
        !kp.objectId.startsWith("retired:"),
    );
    if (expired.length > 0 || retiring.length > 0) {
      ctx.apply({
        keyPackagesRemoved: expired.map((kp) => kp.ref),
        // Mark retired ones so they are neither counted nor retired twice; keys stay until expiry.
        keyPackages: retiring.map((kp) => ({ ...kp, objectId: `retired:${kp.objectId}` })),
        outbox: retiring.flatMap((kp) => retireKeyPackage(ctx, kp.objectId as string)),
      });
      if (retiring.length > 0) ctx.wakeOutbox();
    }
    const live = ctx.store
      .keyPackages()
      .filter(
        (kp) =>
          !kp.objectId?.startsWith("retired:") &&
          (kp.expiresAt === undefined || kp.expiresAt - now >= this.#options.rotateBeforeMs),
      );
    const missing = this.#options.size - live.filter((kp) => !kp.lastResort).length;
    const lastResort = !live.some((kp) => kp.lastResort);
    if (missing > 0 || lastResort) {
      const fresh = await generateKeyPackages(ctx.device, {
        count: Math.max(0, missing),
        lastResort,
        time: new Date(now),
        ...(this.#options.lifetimeSeconds === undefined
          ? {}
          : { lifetimeSeconds: this.#options.lifetimeSeconds }),
      });
      // Through the Serial, so not inside a receive batch: the private keys are on disk before the KeyPackages
      // are published, even should that batch be rolled back.
      await ctx.serial.run(async () =>
        ctx.apply({
          keyPackages: keyPackageSecrets(fresh, now),
        }),
      );
    }
    let published = 0;
    for (const kp of ctx.store.keyPackages().filter((k) => k.objectId === undefined)) {
      if (signal?.aborted) break;
      await this.#publish(kp, signal);
      published++;
    }
    if (published > 0) ctx.log.info("key_packages_published", { count: published });
    return published;
  }

  async #publish(kp: KeyPackageSecret, signal?: AbortSignal): Promise<void> {
    const ctx = this.#ctx;
    const actor = ctx.settings.actorId;
    // Signed by the device itself: Bonfire's clients refuse an unsigned Add once they know a device of the
    // actor; verified peers look for the endorsement of a device they verified (the one that linked this).
    const endorsement = await endorseKeyPackage(ctx.device, kp.keyPackage);
    const object = writeKeyPackageObject({
      actor,
      keyPackage: kp.keyPackage,
      generator: ctx.generator,
      endorsement,
    });
    const created = await ctx.account.post(
      { "@context": object["@context"], type: "Create", actor, to: PUBLIC, object },
      signal,
    );
    const objectId = (created.body as { object?: { id?: unknown } } | null)?.object?.id;
    if (typeof objectId !== "string") {
      ctx.log.warn("key_package_without_id", { ref: kp.ref });
      ctx.apply({ keyPackages: [{ ...kp, objectId: `unknown:${kp.ref}` }] });
      return;
    }
    // Create puts it in the collection on servers that follow Emissary; the Add is the spec's way.
    await ctx.account
      .post(
        {
          "@context": object["@context"],
          type: "Add",
          actor,
          to: PUBLIC,
          object: objectId,
          target: ctx.settings.keyPackagesUrl,
          ...endorsement,
        },
        signal,
      )
      .catch((error: unknown) =>
        ctx.log.warn("key_package_add_failed", { ref: kp.ref, ...errorFields(error) }),
      );
    ctx.apply({ keyPackages: [{ ...kp, objectId }] });
    ctx.counters.add("key_packages.published");
  }
}

/** What the store keeps of freshly generated KeyPackages; an `objectId` holds them back from publishing. */
export function keyPackageSecrets(
  fresh: readonly OwnKeyPackage[],
  now: number,
  objectId?: (ref: string) => string,
): KeyPackageSecret[] {
  return fresh.map((kp) => ({
    ref: kp.ref,
    keyPackage: kp.keyPackage,
    privateKey: kp.privateKeyPackage,
    createdAt: now,
    expiresAt: kp.notAfter.getTime(),
    lastResort: kp.lastResort,
    ...(objectId ? { objectId: objectId(kp.ref) } : {}),
  }));
}
