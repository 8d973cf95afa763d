import type { Cursor, HeldItem, JsonValue, Unit } from "@sotto/storage";
import { type DaemonContext, SETTINGS_HELD } from "./context.js";

/** A held message as the retry loop reads it: its row, without the activity (read one at a time). */
export interface Held {
  readonly id: string;
  readonly epoch: number;
  readonly heldAt: number;
}

/**
 * Messages that came before the Welcome or commit they need (deliveries from two servers race), held as rows
 * of the store's `held` table within its limits (per conversation, per sender, a byte budget; see
 * `HeldLimits`). What a sender may make this device hold depends on who it is: `rank` 2 for a current member
 * of the conversation, 1 for a known contact, 0 for a stranger; a full quota drops the lowest rank's oldest
 * items, so a stranger's junk never pushes out a member's message. The sender is the activity's actor, as
 * the home server delivered it.
 */
export class Holding {
  readonly #ctx: DaemonContext;

  constructor(ctx: DaemonContext) {
    this.#ctx = ctx;
    this.#adoptSettingsList();
  }

  /** Holds a message, recorded as processed with `cursor` moved past it: it is retried from the store. */
  hold(
    activityId: string,
    cursor: Cursor | undefined,
    held: { readonly activity: unknown; readonly groupId: string; readonly epoch: number },
    sender: string | undefined,
    members: readonly string[] | undefined,
  ): void {
    const ctx = this.#ctx;
    const actor = sender ?? "";
    const rank = members?.includes(actor)
      ? 2
      : actor !== "" && ctx.store.contact(actor) !== undefined
        ? 1
        : 0;
    const item: HeldItem = {
      id: activityId,
      conversation: held.groupId,
      epoch: held.epoch,
      sender: actor,
      rank,
      activity: held.activity as JsonValue,
    };
    ctx.counters.add("held");
    ctx.log.info("held", { activity: activityId, conversation: held.groupId, epoch: held.epoch, rank });
    // Received work: it can be read again, so it need not wait for the disk.
    const { heldDropped } = ctx.apply({ activityId, cursor, held: [item] }, undefined, { durable: false });
    if (heldDropped.length > 0) {
      ctx.counters.add("held.dropped", heldDropped.length);
      ctx.log.warn("held_dropped", { count: heldDropped.length });
    }
  }

  /** What takes a held message off the list (when a unit processes it, or gives it up). */
  removal(held: Held | undefined): Pick<Unit, "heldRemoved"> {
    return held === undefined ? {} : { heldRemoved: [held.id] };
  }

  /** The messages held for a group, oldest epoch first. */
  waiting(groupId: string): readonly Held[] {
    return this.#ctx.store.held(groupId);
  }

  isHeld(id: string): boolean {
    return this.#ctx.store.hasHeld(id);
  }

  activity(id: string): unknown {
    return this.#ctx.store.heldActivity(id);
  }

  /** Before held messages had rows, they were one sealed setting: moved to rows once (as strangers'). */
  #adoptSettingsList(): void {
    const store = this.#ctx.store;
    const list = store.setting(SETTINGS_HELD);
    if (list === undefined) return;
    const items = (Array.isArray(list) ? list : []).flatMap((h) => {
      const old = h as { activityId?: unknown; activity?: JsonValue; groupId?: unknown; epoch?: unknown };
      if (typeof old.activityId !== "string" || typeof old.groupId !== "string") return [];
      const actor = (old.activity as { actor?: unknown } | null)?.actor;
      return [
        {
          id: old.activityId,
          conversation: old.groupId,
          epoch: typeof old.epoch === "number" ? old.epoch : -1,
          sender: typeof actor === "string" ? actor : "",
          rank: 0,
          activity: old.activity ?? null,
        },
      ];
    });
    store.apply({ held: items, settings: { [SETTINGS_HELD]: null } });
  }
}
