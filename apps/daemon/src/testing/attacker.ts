// An attacker for end-to-end tests: a real account on a real server whose MLS is built by hand with @sotto/core,
// so it can make what an honest daemon never would (a group under someone else's group id, a leaf in another
// actor's name). Its "directory" lists whatever KeyPackages it chooses: its own forgeries and its victims' real
// ones, read from their servers.
import { Account, ActivityPubClient } from "@sotto/activitypub";
import {
  type ActorFetcher,
  type DeviceIdentity,
  type EngineContext,
  generateDeviceIdentity,
  generateKeyPackages,
  readKeyPackagesProperty,
  writeKeyPackageObject,
  writeMessageCreate,
} from "@sotto/core";
import type { SottoServer } from "@sotto/server";
import { ActorDirectory } from "../actors.js";
import { network } from "./world.js";

export interface Attacker {
  readonly actorId: string;
  readonly device: DeviceIdentity;
  /** A KeyPackage naming `actorId` (someone else), signed with a fresh key that this attacker holds. */
  forgedKeyPackage(actorId: string): Promise<Uint8Array>;
  /**
   * An engine context whose fetcher lists `listing` for the actors it names and real listings for the rest;
   * it acts as this attacker's device, or as `as` (a device in someone else's name whose key it holds).
   */
  engine(listing?: Readonly<Record<string, readonly Uint8Array[]>>, as?: DeviceIdentity): EngineContext;
  /** Publishes a KeyPackage of its own device in its `keyPackages` (Create, then Add), as a daemon does. */
  publishKeyPackage(): Promise<void>;
  /** Posts MLS bytes (a Welcome, a commit...) from this attacker's account to `recipients`. */
  send(bytes: Uint8Array, recipients: readonly string[], context: string, published?: Date): Promise<void>;
}

/** `timeoutMs`: per request to the server, longer for large posts on a loaded machine (a 2 MB message). */
export async function createAttacker(
  server: SottoServer,
  name: string,
  timeoutMs: number = network.timeoutMs,
): Promise<Attacker> {
  const { actorId, token } = await server.createUser(name);
  const device = await generateDeviceIdentity(actorId);
  const client = new ActivityPubClient({ ...network, timeoutMs });
  const account = new Account(client, actorId, token);
  const directory = new ActorDirectory(client);
  return {
    actorId,
    device,
    async forgedKeyPackage(victim) {
      const [kp] = await generateKeyPackages(
        // A key of its own (ts-mls refuses two leaves with one key; the engine skips devices already present).
        await generateDeviceIdentity(victim),
        { count: 1, lastResort: false, time: new Date() },
      );
      if (kp === undefined) throw new Error("no KeyPackage generated");
      return kp.keyPackage;
    },
    engine(listing = {}, as = device) {
      const fetcher: ActorFetcher = {
        keyPackagesOf: async (actor) => listing[actor] ?? (await directory.keyPackagesOf(actor)),
      };
      return { device: as, fetcher, time: new Date() };
    },
    async publishKeyPackage() {
      const [kp] = await generateKeyPackages(device, { count: 1, lastResort: false, time: new Date() });
      if (kp === undefined) throw new Error("no KeyPackage generated");
      const object = writeKeyPackageObject({
        actor: actorId,
        keyPackage: kp.keyPackage,
        generator: { id: `urn:uuid:${crypto.randomUUID()}`, name: name },
      });
      const context = object["@context"];
      const PUBLIC = "https://www.w3.org/ns/activitystreams#Public";
      const created = await account.post({
        "@context": context,
        type: "Create",
        actor: actorId,
        to: PUBLIC,
        object,
      });
      const listing = readKeyPackagesProperty((await account.actor({ refresh: true })).raw);
      const target = listing.ok ? (listing.value.id ?? listing.value.next) : undefined;
      const objectId = (created.body as { object?: { id?: unknown } } | null)?.object?.id;
      if (typeof objectId !== "string" || target === undefined) throw new Error("KeyPackage not published");
      await account.post({
        "@context": context,
        type: "Add",
        actor: actorId,
        to: PUBLIC,
        object: objectId,
        target,
      });
    },
    async send(bytes, recipients, context, published = new Date()) {
      await account.post(
        writeMessageCreate({
          actor: actorId,
          recipients,
          bytes,
          context,
          published: published.toISOString(),
        }),
      );
    },
  };
}
