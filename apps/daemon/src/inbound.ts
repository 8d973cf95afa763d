import { createHash } from "node:crypto";
import type { ReceivedItem } from "@sotto/activitypub";
import {
  type Conversation,
  commitPendingProposals,
  type Envelope,
  epochOf,
  FutureEpochError,
  joinConversation,
  type Member,
  members,
  ok,
  ownLeafIndex,
  processMessage,
  readEnvelope,
  reapplyIntent,
} from "@sotto/core";
import type { ApplyResult, Cursor, EventInput, KeyPackageSecret, OutboxChange, Unit } from "@sotto/storage";
import { readIntent } from "./appdata.js";
import { fingerprintText } from "./contacts.js";
import { CURSOR_RECEIVED, type DaemonContext } from "./context.js";
import {
  type ConversationInfo,
  newConversationInfo,
  type SecurityAlert,
  withAlerts,
} from "./conversationInfo.js";
import {
  comparisonString,
  type DeviceSync,
  matchLinkCode,
  readDeviceSync,
  readLinkCodes,
  SETTINGS_LINK_CODES,
} from "./deviceLink.js";
import { effectOf, outOfStepEffect } from "./effects.js";
import { endorsedDevices } from "./endorsement.js";
import { event } from "./events.js";
import {
  contactUpdates,
  groupIdOf,
  groupRecord,
  type LoadedConversation,
  loadConversation,
  memberActors,
  queueMls,
} from "./groups.js";
import { type Held, Holding } from "./held.js";
import { errorFields } from "./log.js";
import {
  alertEvents,
  authenticateMembers,
  recheckSender,
  recordAuthentication,
} from "./memberAuthentication.js";

/**
 * Applies received activities, each in one store transaction: the new MLS state, the decrypted message or
 * change, the contacts, the cursor, the processed activity id and the events, all or nothing. Replays are
 * dropped by activity id. Bad input is logged, counted and skipped; a message for an epoch (or a group) not
 * reached yet is held, sealed in the store, and retried after each commit or Welcome.
 */
export class Inbound {
  readonly #ctx: DaemonContext;
  readonly #holding: Holding;

  constructor(ctx: DaemonContext) {
    this.#ctx = ctx;
    this.#holding = new Holding(ctx);
  }

  /** Writes what a received activity changes: it can be read again, so it need not wait for the disk. */
  #apply(unit: Unit, states?: readonly LoadedConversation[]): ApplyResult {
    return this.#ctx.apply(unit, states, { durable: false });
  }

  /** Handles one received item. Call through the daemon's Serial. */
  async receive(item: ReceivedItem, options: { readonly moveCursor?: boolean } = {}): Promise<void> {
    const ctx = this.#ctx;
    const activityId =
      item.id ?? `urn:sha256:${createHash("sha256").update(JSON.stringify(item.activity)).digest("hex")}`;
    // Items read from the server move the reading position; ones handed over from elsewhere do not.
    const cursor: Cursor | undefined =
      item.id === undefined || options.moveCursor === false
        ? undefined
        : { name: CURSOR_RECEIVED, position: item.id };
    // Read when the item was (decryptAhead.ts); the item is passed now, whether it is applied or not.
    const reached = ctx.decryptAhead?.reach(item);
    if (ctx.store.isProcessed(activityId)) {
      ctx.counters.add("received.duplicate");
      // Read past it, so it is not read again after a restart (processing it again would change nothing).
      if (cursor !== undefined) this.#apply({ cursor });
      return;
    }
    ctx.counters.add("received");
    const read = reached ?? readEnvelope(item.activity);
    if (!read.ok) return this.#skip(activityId, cursor, `envelope.${read.error.code}`);
    const envelope = read.value;
    try {
      if (envelope.kind === "welcome") return await this.#welcome(activityId, cursor, envelope);
      if (envelope.kind === "private_message" || envelope.kind === "public_message") {
        return await this.#groupMessage(activityId, cursor, envelope, item.activity, undefined);
      }
      return this.#skip(activityId, cursor, `ignored.${envelope.kind}`);
    } catch (error) {
      // A bug or a store failure while handling this one item: record it as skipped so sync goes on.
      ctx.log.error("receive_failed", { activity: activityId, ...errorFields(error) });
      ctx.counters.add("received.internal_error");
      this.#skip(activityId, cursor, "internal_error");
    }
  }

  #skip(activityId: string, cursor: Cursor | undefined, reason: string, quiet = false): void {
    const ctx = this.#ctx;
    ctx.counters.add(`skipped.${reason}`);
    if (!quiet) ctx.log.warn("skipped", { activity: activityId, reason });
    this.#apply({ activityId, cursor });
  }

  async #welcome(activityId: string, cursor: Cursor | undefined, envelope: Envelope): Promise<void> {
    const ctx = this.#ctx;
    const pool = ctx.store.keyPackages().map((kp) => ({
      keyPackage: kp.keyPackage,
      privateKeyPackage: kp.privateKey,
      lastResort: kp.lastResort === true,
    }));
    const joined = await joinConversation(ctx.device, envelope.bytes, pool);
    if (!joined.ok) return this.#skip(activityId, cursor, `welcome.${joined.error.code}`);
    const { conversation, keyPackageRef, lastResort, committer } = joined.value;
    // The activity must come from the member who made the Welcome, not from any actor in the new group.
    if (envelope.actor === undefined || envelope.actor !== committer.actorId) {
      return this.#skip(activityId, cursor, "welcome.sender_not_committer");
    }
    await ctx.decryptAhead?.settle(conversation.groupId);
    const previous = loadConversation(ctx, conversation.groupId);
    if (
      previous === undefined &&
      members(conversation).every((m) => m.actorId === ctx.settings.actorId) &&
      committer.actorId === ctx.settings.actorId
    ) {
      const codes = readLinkCodes(ctx.store.setting(SETTINGS_LINK_CODES), ctx.now());
      const match = matchLinkCode(codes, conversation.groupId, committer.signaturePublicKey, ctx.now());
      if (match?.ok === false) return this.#skip(activityId, cursor, `welcome.${match.reason}`);
      if (match?.ok) {
        const key = Buffer.from(committer.signaturePublicKey).toString("hex");
        const at = ctx.now();
        const consumed = ctx.store.keyPackage(keyPackageRef);
        const comparison = comparisonString(
          match.code.code,
          members(conversation).map((m) => m.signaturePublicKey),
        );
        const info: ConversationInfo = {
          ...newConversationInfo(at),
          link: { role: "existing", keys: [key], state: "requested", comparison, name: null, since: at },
        };
        this.#apply({
          activityId,
          cursor,
          at,
          groups: [groupRecord(conversation, info)],
          settings: {
            [SETTINGS_LINK_CODES]: codes.map((c) => (c === match.code ? { ...c, usedBy: key } : c)) as never,
          },
          keyPackages: lastResort || consumed === undefined ? [] : [consumedKeyPackage(consumed, at)],
          outbox:
            lastResort || consumed?.objectId === undefined ? [] : retireKeyPackage(ctx, consumed.objectId),
          events: [event({ type: "devices.changed", deviceId: deviceIdOf(committer.signaturePublicKey) })],
        });
        ctx.counters.add("link.requested");
        ctx.log.info("link_requested", { conversation: conversation.groupId });
        ctx.wakeKeyPackages();
        await this.#retryHeld(conversation.groupId);
        return;
      }
    }
    const admission = previous === undefined ? "new" : admitOver(previous, conversation, committer);
    if (admission === "duplicate") return this.#skip(activityId, cursor, "welcome.already_member");
    if (admission === "refused") return this.#refuseWelcome(activityId, cursor, previous, envelope.actor);
    const self = ownLeafIndex(conversation);
    const checked = await authenticateMembers(
      ctx,
      members(conversation).filter((m) => m.leafIndex !== self),
    );
    if (checked.some((c) => c.authentication === "contradicted")) {
      ctx.log.warn("welcome_contradicted", {
        conversation: conversation.groupId,
        actors: checked
          .filter((c) => c.authentication === "contradicted")
          .map((c) => c.member.actorId)
          .join(" "),
      });
      return this.#refuseWelcome(activityId, cursor, previous, envelope.actor, "authentication_failed");
    }
    const at = ctx.now();
    const consumed = ctx.store.keyPackage(keyPackageRef);
    const base =
      previous === undefined
        ? newConversationInfo(at)
        : // A new chain of epochs: what was known about the old one's devices no longer applies.
          { ...previous.info, left: false, outOfStep: null, lastActivityAt: at, unauthenticated: {} };
    const readded: SecurityAlert[] =
      admission === "readded" ? [{ kind: "readded", actorId: committer.actorId, at }] : [];
    const authenticated = recordAuthentication(withAlerts(base, readded), conversation, checked, at);
    const alerts = [...readded, ...authenticated.alerts];
    const endorsed = await endorsedDevices(
      ctx,
      checked.map((c) => c.member),
    );
    const contacts = contactUpdates(ctx, conversation, authenticated.info, at, checked, endorsed);
    this.#apply({
      activityId,
      cursor,
      at,
      groups: [groupRecord(conversation, contacts.info)],
      keyPackages: lastResort || consumed === undefined ? [] : [consumedKeyPackage(consumed, at)],
      outbox: lastResort || consumed?.objectId === undefined ? [] : retireKeyPackage(ctx, consumed.objectId),
      contacts: contacts.contacts,
      events: [
        event({
          type: previous === undefined ? "conversation.created" : "conversation.updated",
          conversationId: conversation.groupId,
        }),
        ...alertEvents(conversation.groupId, alerts),
        ...contacts.events,
      ],
    });
    ctx.counters.add(previous === undefined ? "welcome.joined" : `welcome.${admission}`);
    ctx.log.info("joined", {
      conversation: conversation.groupId,
      members: memberActors(conversation).length,
    });
    ctx.wakeOutbox();
    ctx.wakeKeyPackages();
    await this.#retryHeld(conversation.groupId);
  }

  /**
   * A Welcome not taken. For a conversation this device has, the conversation stays as it was and says so:
   * a `welcome_refused` alert naming the sender, and its event.
   */
  #refuseWelcome(
    activityId: string,
    cursor: Cursor | undefined,
    previous: LoadedConversation | undefined,
    sender: string,
    reason = "takeover_refused",
  ): void {
    const ctx = this.#ctx;
    if (previous === undefined) {
      this.#skip(activityId, cursor, `welcome.${reason}`);
      return;
    }
    ctx.counters.add(`skipped.welcome.${reason}`);
    ctx.log.warn("skipped", { activity: activityId, reason: `welcome.${reason}` });
    const at = ctx.now();
    const alerts: SecurityAlert[] = [{ kind: "welcome_refused", actorId: sender, at }];
    const { conversation } = previous;
    this.#apply(
      {
        activityId,
        cursor,
        at,
        groups: [groupRecord(conversation, withAlerts(previous.info, alerts))],
        events: [
          ...alertEvents(conversation.groupId, alerts),
          event({ type: "conversation.updated", conversationId: conversation.groupId }),
        ],
      },
      [{ ...previous, info: withAlerts(previous.info, alerts) }],
    );
  }

  async #groupMessage(
    activityId: string,
    cursor: Cursor | undefined,
    envelope: Envelope,
    activity: unknown,
    held: Held | undefined,
  ): Promise<void> {
    const ctx = this.#ctx;
    const groupId = groupIdOf(envelope);
    if (groupId === undefined) return this.#skip(activityId, cursor, "message.bad_group_id");
    let loaded = loadConversation(ctx, groupId);
    if (loaded === undefined) {
      // Possibly ahead of its Welcome (deliveries from two servers race): hold it.
      return this.#hold(activityId, cursor, { activity, groupId, epoch: -1 }, held, envelope, undefined);
    }
    // The worker's result if it is what processMessage would give here; else the group's state is reclaimed
    // from the worker first (see decryptAhead.ts). A link group's messages change more than the state.
    const early = await ctx.decryptAhead?.take(
      groupId,
      envelope,
      loaded.conversation,
      held === undefined && loaded.info.link === undefined,
    );
    if (early === undefined) loaded = loadConversation(ctx, groupId) as LoadedConversation;
    const result =
      early === undefined
        ? await processMessage(loaded.conversation, {
            bytes: envelope.bytes,
            message: envelope.message,
            published: envelope.published,
          })
        : // Application data leaves the tree as it was: the state before serves where the tree is read, and
          // stands for the new one (in the worker) until the group is settled.
          ok({ kind: "application" as const, conversation: loaded.conversation, ...early });
    if (!result.ok) {
      const error = result.error;
      if (error instanceof FutureEpochError) {
        const future = { activity, groupId, epoch: Number(error.epoch) };
        return this.#hold(activityId, cursor, future, held, envelope, loaded.members);
      }
      const quiet = error.code === "duplicate" || error.code === "self_commit_echo";
      if (error.code === "invalid" && isCommit(envelope) && envelope.actor !== undefined) {
        // A member's commit this device must refuse: say that the conversation is out of step with them.
        if (loaded.members.includes(envelope.actor)) {
          const flagged = outOfStepEffect(groupId, loaded.info, envelope.actor, error.message, ctx.now());
          this.#apply({ events: flagged.events }, [
            { conversation: loaded.conversation, info: flagged.info, members: loaded.members },
          ]);
        }
      }
      return this.#finishHeld(activityId, cursor, held, `mls.${error.code}`, quiet);
    }
    const received = result.value;
    if (envelope.actor !== undefined && envelope.actor !== received.sender.actorId) {
      // The MLS sender is what counts; a mismatch with the ActivityPub actor is worth knowing about.
      ctx.counters.add("received.actor_mismatch");
      ctx.log.warn("actor_mismatch", { activity: activityId, conversation: groupId });
    }
    const at = ctx.now();
    // A held message was recorded as processed when it was held: its unit only takes it off the list.
    const base: Unit =
      held === undefined ? { activityId, cursor, at } : { at, ...this.#holding.removal(held) };
    if (received.kind === "application" && loaded.info.link !== undefined) {
      return this.#deviceSync(base, loaded, received.conversation, received.sender, received.data);
    }
    if (received.kind === "application") {
      const rechecked = await recheckSender(ctx, loaded, received.conversation, received.sender, at);
      const intent = readIntent(received.data, received.sender.actorId);
      const applied = effectOf(ctx, groupId, rechecked.info, received.sender.actorId, intent, at);
      const written = this.#apply(
        {
          ...base,
          messages: applied.messages,
          messageChanges: applied.changes,
          contacts: rechecked.contacts,
          events: [...rechecked.events, ...applied.events],
        },
        // Application data never changes the membership.
        [{ conversation: received.conversation, info: applied.info, members: loaded.members }],
      );
      // The worker's state after this message is the group's now (a unit not applied leaves it as it was).
      if (early !== undefined && written.applied) ctx.decryptAhead?.applied(groupId);
      ctx.counters.add(
        intent.kind === "ignored" ? `appdata.ignored.${intent.reason}` : `appdata.${intent.kind}`,
      );
      ctx.log.debug("applied", { activity: activityId, kind: intent.kind });
      return;
    }
    if (received.kind === "proposal") {
      this.#apply({ ...base, groups: [groupRecord(received.conversation, loaded.info)] });
      ctx.counters.add(`proposal.${received.proposal.kind}`);
      await this.#commitIfDesignated(received.conversation, received.sender.leafIndex);
      return;
    }
    // A commit.
    const before = loaded.members;
    const after = received.removedSelf
      ? before.filter((a) => a !== ctx.settings.actorId)
      : memberActors(received.conversation);
    const added = after.filter((a) => !before.includes(a));
    const removed = before.filter((a) => !after.includes(a));
    // New leaves and leaves with a new signature key are checked; the commit is applied either way (refusing
    // it would fork this device off the group) and what does not authenticate is flagged.
    const self = ownLeafIndex(received.conversation);
    const checked = received.removedSelf
      ? []
      : await authenticateMembers(
          ctx,
          received.added.filter((m) => m.leafIndex !== self),
          { fresh: true },
        );
    const authenticated = recordAuthentication(
      { ...loaded.info, lastActivityAt: at, left: loaded.info.left || received.removedSelf, outOfStep: null },
      received.conversation,
      checked,
      at,
    );
    const endorsed = await endorsedDevices(
      ctx,
      checked.map((c) => c.member),
    );
    const contacts = contactUpdates(ctx, received.conversation, authenticated.info, at, checked, endorsed);
    const info: ConversationInfo = contacts.info;
    const events: EventInput[] = alertEvents(groupId, authenticated.alerts);
    if (added.length > 0 || removed.length > 0) {
      events.push(event({ type: "conversation.members_changed", conversationId: groupId, added, removed }));
    }
    if (received.removedSelf) events.push(event({ type: "conversation.updated", conversationId: groupId }));
    let outbox: OutboxChange[] = [];
    let conversation = received.conversation;
    if (received.superseded !== undefined && !received.removedSelf) {
      ctx.counters.add("commit.superseded");
      // Our concurrent commit lost: do what it meant to do again, in the winning epoch.
      const again = await reapplyIntent(this.#engine(), conversation, received.superseded).catch(
        (error: unknown) => {
          ctx.log.warn("reapply_failed", { conversation: groupId, ...errorFields(error) });
          return undefined;
        },
      );
      if (again !== undefined) {
        conversation = again.conversation;
        outbox = [
          ...queueMls(ctx, groupId, again.commit, again.commitRecipients, "handshake", {
            published: again.published.toISOString(),
          }),
          ...(again.welcome === undefined
            ? []
            : queueMls(ctx, groupId, again.welcome, again.welcomeRecipients, "welcome", {
                published: again.published.toISOString(),
              })),
        ];
      }
    }
    this.#apply({
      ...base,
      groups: [groupRecord(conversation, info)],
      contacts: contacts.contacts,
      outbox,
      events: [...events, ...contacts.events],
    });
    ctx.counters.add(received.removedSelf ? "commit.removed_self" : "commit.applied");
    if (outbox.length > 0) ctx.wakeOutbox();
    if (!received.removedSelf) await this.#retryHeld(groupId);
  }

  /**
   * What another device of this account says in a link group (deviceLink.ts): its link request, the approval,
   * a page of history, or a leave to follow. Anything else there is ignored.
   */
  #deviceSync(
    base: Unit,
    loaded: LoadedConversation,
    conversation: Conversation,
    sender: Member,
    data: Uint8Array,
  ): void {
    const ctx = this.#ctx;
    const link = loaded.info.link as NonNullable<ConversationInfo["link"]>;
    const sync = readDeviceSync(data);
    const senderKey = Buffer.from(sender.signaturePublicKey).toString("hex");
    const fromLinked = sender.actorId === ctx.settings.actorId && link.state !== "removed";
    const keep = (info: ConversationInfo, unit: Unit = {}) =>
      this.#apply({ ...base, ...unit }, [{ conversation, info, members: loaded.members }]);
    if (sync === undefined || !fromLinked) {
      ctx.counters.add("link.sync_ignored");
      keep(loaded.info);
      return;
    }
    ctx.counters.add(`link.sync.${sync.type}`);
    const changed = event({ type: "devices.changed", deviceId: deviceIdOf(sender.signaturePublicKey) });
    const { info, unit } = this.#syncEffect(loaded.info, link, sync, senderKey, changed);
    keep(info, unit);
    if (sync.type === "Leave") ctx.leaveOnThisDevice(sync.conversation);
  }

  /** What a device-sync payload changes in the store (a Leave is done after, through the Serial). */
  #syncEffect(
    current: ConversationInfo,
    link: NonNullable<ConversationInfo["link"]>,
    sync: DeviceSync,
    senderKey: string,
    changed: EventInput,
  ): { info: ConversationInfo; unit: Unit } {
    const ctx = this.#ctx;
    const none = { info: current, unit: {} };
    switch (sync.type) {
      case "LinkRequest": {
        if (link.role !== "existing" || !link.keys.includes(senderKey)) return none;
        const name = String(sync.name).slice(0, 256);
        const keyPackages = sync.keyPackages.slice(0, 64).filter((k) => typeof k === "string");
        return { info: { ...current, link: { ...link, name, keyPackages } }, unit: { events: [changed] } };
      }
      case "Approved": {
        if (link.role !== "new") return none;
        const published = sync.published ?? {};
        const keyPackages = ctx.store.keyPackages().flatMap((kp) => {
          const objectId = published[Buffer.from(kp.keyPackage).toString("base64")];
          return typeof objectId === "string" && kp.objectId?.startsWith("linking:")
            ? [{ ...kp, objectId }]
            : [];
        });
        ctx.log.info("link_approved", {});
        return {
          info: { ...current, link: { ...link, state: "linked" } },
          unit: { keyPackages, events: [changed] },
        };
      }
      case "History": {
        if (link.role !== "new" || loadConversation(ctx, sync.conversation) === undefined) return none;
        const own = ctx.settings.actorId;
        const messages = sync.messages
          .filter((m) => typeof m.id === "string" && ctx.store.message(m.id) === undefined)
          .map((m) => ({
            id: m.id,
            conversation: sync.conversation,
            author: m.author,
            at: m.at,
            direction: m.author === own ? ("out" as const) : ("in" as const),
            state: m.author === own ? ("sent" as const) : ("received" as const),
            body: m.body,
          }));
        ctx.counters.add("link.history_messages", messages.length);
        return {
          info: current,
          unit: {
            messages,
            events:
              messages.length === 0
                ? []
                : [event({ type: "conversation.updated", conversationId: sync.conversation })],
          },
        };
      }
      case "Leave":
        return none;
    }
  }

  #engine() {
    const ctx = this.#ctx;
    return { device: ctx.device, fetcher: ctx.directory, time: new Date(ctx.now()) };
  }

  /**
   * After a member's self-remove proposal, one member commits it: the remaining member with the lowest leaf
   * index, right after what sync has queued, so that exactly one does with no coordination. Should that member be away, the next one
   * commits after `leaveCommitDelayMs`, the one after that after twice as long, and so on (a commit that did
   * arrive meanwhile has cleared the proposals, and the late ones do nothing).
   */
  async #commitIfDesignated(conversation: Conversation, proposer: number): Promise<void> {
    const pending = Object.values(conversation.state.unappliedProposals);
    const leaving = new Set(
      pending.flatMap((p) => (p.proposal.proposalType === "remove" ? [p.proposal.remove.removed] : [])),
    );
    if (leaving.size === 0) return;
    const remaining = members(conversation)
      .map((m) => m.leafIndex)
      .filter((leaf) => !leaving.has(leaf) && leaf !== proposer)
      .sort((a, b) => a - b);
    const rank = remaining.indexOf(ownLeafIndex(conversation));
    if (rank < 0) return;
    // Even the first one waits for what sync has already queued: the commit may be among it.
    const groupId = conversation.groupId;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      this.#ctx.serial.run(() => this.#commitPending(groupId)).catch(() => {});
    }, rank * this.#ctx.leaveCommitDelayMs);
    this.#timers.add(timer);
  }

  readonly #timers = new Set<ReturnType<typeof setTimeout>>();

  /** Cancels the fallback commits still waiting (the daemon is stopping). */
  close(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }

  /** Commits the proposals the conversation holds now, if it still holds any. */
  async #commitPending(groupId: string): Promise<void> {
    const ctx = this.#ctx;
    await ctx.decryptAhead?.settle(groupId);
    const loaded = loadConversation(ctx, groupId);
    if (loaded === undefined || Object.keys(loaded.conversation.state.unappliedProposals).length === 0)
      return;
    try {
      const outcome = await commitPendingProposals(this.#engine(), loaded.conversation);
      const removed = loaded.members.filter((a) => !memberActors(outcome.conversation).includes(a));
      ctx.apply({
        groups: [groupRecord(outcome.conversation, { ...loaded.info, lastActivityAt: ctx.now() })],
        outbox: queueMls(ctx, groupId, outcome.commit, outcome.commitRecipients, "handshake", {
          published: outcome.published.toISOString(),
        }),
        events:
          removed.length > 0
            ? [event({ type: "conversation.members_changed", conversationId: groupId, added: [], removed })]
            : [],
      });
      ctx.wakeOutbox();
      ctx.counters.add("commit.proposals_committed");
    } catch (error) {
      ctx.log.warn("commit_proposals_failed", { conversation: groupId, ...errorFields(error) });
    }
  }

  // ---- held messages (see held.ts) -----------------------------------------------------------------

  #hold(
    activityId: string,
    cursor: Cursor | undefined,
    future: { readonly activity: unknown; readonly groupId: string; readonly epoch: number },
    held: Held | undefined,
    envelope: Envelope,
    members: readonly string[] | undefined,
  ): void {
    if (held !== undefined) return; // Still waiting: it stays held as it is.
    this.#holding.hold(activityId, cursor, future, envelope.actor, members);
  }

  #finishHeld(
    activityId: string,
    cursor: Cursor | undefined,
    held: Held | undefined,
    reason: string,
    quiet: boolean,
  ): void {
    const ctx = this.#ctx;
    ctx.counters.add(`skipped.${reason}`);
    if (!quiet) ctx.log.warn("skipped", { activity: activityId, reason });
    this.#apply(held === undefined ? { activityId, cursor } : this.#holding.removal(held));
  }

  /** Retries the messages held for a group, oldest epoch first, until a round makes no progress. */
  async #retryHeld(groupId: string): Promise<void> {
    const holding = this.#holding;
    for (let progressed = true; progressed; ) {
      progressed = false;
      for (const held of holding.waiting(groupId)) {
        // A commit released earlier in this round may have released this one already.
        const activity = holding.activity(held.id);
        if (activity === undefined) continue;
        const read = readEnvelope(activity);
        if (!read.ok) {
          this.#apply(holding.removal(held));
          continue;
        }
        await this.#groupMessage(held.id, undefined, read.value, activity, held);
        if (!holding.isHeld(held.id)) {
          progressed = true;
          this.#ctx.counters.add("held.released");
        }
      }
    }
  }
}

/**
 * How long the private part of a consumed KeyPackage is kept. Until our Remove reaches the server, inviters
 * still fetch the package and every one of them picks it (the first single-use one listed), so a second
 * conversation opened meanwhile sends a Welcome made from it; deleting the keys at once made that Welcome
 * unreadable (`welcome_not_for_device`). A day covers Removes delayed by outbox retries.
 */
export const CONSUMED_KEY_PACKAGE_KEEP_MS = 24 * 3600_000;

/**
 * A consumed package marked retired (neither counted as live nor retired again) and due to go at the end of
 * the keep window, or at its own expiry if sooner; the pool deletes it then.
 */
function consumedKeyPackage(kp: KeyPackageSecret, at: number): KeyPackageSecret {
  const due = at + CONSUMED_KEY_PACKAGE_KEEP_MS;
  return {
    ...kp,
    objectId: kp.objectId?.startsWith("retired:") ? kp.objectId : `retired:${kp.objectId ?? kp.ref}`,
    expiresAt: kp.expiresAt === undefined ? due : Math.min(kp.expiresAt, due),
  };
}

/** Remove + Delete of a consumed KeyPackage object (spec §KeyPackage lifecycle), queued in the outbox. */
export function retireKeyPackage(ctx: DaemonContext, objectId: string): OutboxChange[] {
  // Only packages the server gave an id (not ones already retired, or published without an id).
  if (!/^https?:/.test(objectId)) return [];
  const actor = ctx.settings.actorId;
  const collection = ctx.settings.keyPackagesUrl;
  const published = new Date(ctx.now()).toISOString();
  const activities = [
    {
      type: "Remove",
      actor,
      to: "https://www.w3.org/ns/activitystreams#Public",
      object: objectId,
      target: collection,
      published,
    },
    {
      type: "Delete",
      actor,
      to: "https://www.w3.org/ns/activitystreams#Public",
      object: objectId,
      published,
    },
  ];
  return activities.map((activity, i) => ({
    op: "enqueue" as const,
    id: `${ctx.now().toString().padStart(15, "0")}-kp${i}-${crypto.randomUUID().slice(0, 8)}`,
    payload: {
      activity: { "@context": "https://www.w3.org/ns/activitystreams", ...activity },
      purpose: "key_package",
    } as never,
  }));
}

/**
 * Whether a Welcome may replace the state of a conversation this device already has (DESIGN.md §3.1: a group
 * id is public, so it proves nothing). Only a member of the last state this device knew, by actor and
 * signature key, may bring it into a new state:
 * - `readded`: this device left or was removed, or is out of step with the committer (a commit of theirs could
 *   not be applied here), and is added back (the user is told);
 * - `rejoined`: this device joined through a commit that lost a concurrent race and has seen no commit since;
 *   the winner's committer invites it again into the winning epoch;
 * - `duplicate`: a member's Welcome that would not move this device forward (e.g. the losing side's, late);
 * - `refused`: anything else, in particular a Welcome from someone who is not a member: a takeover.
 */
function admitOver(
  previous: LoadedConversation,
  conversation: Conversation,
  committer: Member,
): "readded" | "rejoined" | "duplicate" | "refused" {
  const known = previous.conversation;
  const fromMember = members(known).some(
    (m) =>
      m.leafIndex !== ownLeafIndex(known) &&
      m.actorId === committer.actorId &&
      bytesEqual(m.signaturePublicKey, committer.signaturePublicKey),
  );
  if (!fromMember) return "refused";
  if (previous.info.left || previous.info.outOfStep?.actor === committer.actorId) return "readded";
  if (known.lastCommit === undefined && epochOf(known) < epochOf(conversation)) return "rejoined";
  return "duplicate";
}

/** A device's id as the API shows it: the first 32 hex digits of its fingerprint. */
export function deviceIdOf(signaturePublicKey: Uint8Array): string {
  return fingerprintText(signaturePublicKey).replaceAll(" ", "").slice(0, 32);
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}

/** Whether an envelope carries a commit (the content type is in the clear in both framings). */
function isCommit(envelope: Envelope): boolean {
  const message = envelope.message;
  if (message.wireformat === "mls_private_message") return message.privateMessage.contentType === "commit";
  if (message.wireformat === "mls_public_message")
    return message.publicMessage.content.contentType === "commit";
  return false;
}
