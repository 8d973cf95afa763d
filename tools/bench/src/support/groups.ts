// Groups the benches run MLS in: real devices, KeyPackages and a Welcome, no network.
import {
  type Conversation,
  createConversation,
  type DeviceIdentity,
  generateDeviceIdentity,
  generateKeyPackages,
  joinConversation,
  type OwnKeyPackage,
} from "@sotto/core";

const actor = (i: number) => `https://bench.example/users/u${i}`;

export interface Group {
  readonly creator: Conversation;
  readonly member: Conversation;
  readonly ctx: {
    device: DeviceIdentity;
    fetcher: { keyPackagesOf(a: string): Promise<Uint8Array[]> };
    time: Date;
  };
}

/** A group of `size` devices: the creator adds everyone in one commit; one other member joins for real. */
export async function buildGroup(size: number): Promise<Group> {
  const listed = new Map<string, Uint8Array[]>();
  let joiner: { device: DeviceIdentity; pool: OwnKeyPackage[] } | undefined;
  for (let i = 1; i < size; i++) {
    const device = await generateDeviceIdentity(actor(i));
    const pool = await generateKeyPackages(device, { count: 1, lastResort: false, time: new Date() });
    listed.set(
      actor(i),
      pool.map((p) => p.keyPackage),
    );
    if (i === 1) joiner = { device, pool };
  }
  const fetcher = { keyPackagesOf: async (a: string) => listed.get(a) ?? [] };
  const ctx = { device: await generateDeviceIdentity(actor(0)), fetcher, time: new Date() };
  const created = await createConversation(ctx, { members: [...listed.keys()] });
  if (joiner === undefined || created.welcome === undefined) throw new Error("group has no second member");
  const joined = await joinConversation(joiner.device, created.welcome, joiner.pool);
  if (!joined.ok) throw joined.error;
  return { creator: created.conversation, member: joined.value.conversation, ctx };
}
