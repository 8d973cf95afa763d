// The MLS engine: see ../../README.md, section "MLS engine".
export { encryptMessage } from "./application.js";
export {
  type ActorFetcher,
  type AuthenticatedLeaf,
  authenticateActorDevices,
  authenticateLeaves,
  type DeviceKeyDirectory,
  type DeviceKeyPackages,
  type LeafAuthentication,
  publishedSignatureKeys,
} from "./authentication.js";
export { readKeyPackage, readMlsMessage } from "./codec.js";
export {
  addMembers,
  type CommitOutcome,
  type CreateConversationOptions,
  type CreatedConversation,
  commitPendingProposals,
  createConversation,
  type EngineContext,
  type Invitee,
  type LeaveOutcome,
  leaveConversation,
  reapplyIntent,
  removeDevices,
  removeMembers,
  updateConversation,
} from "./commit.js";
export {
  type AppliedCommit,
  type Conversation,
  decodeConversation,
  encodeConversation,
  epochOf,
  type HandshakeFraming,
  type Intent,
  isActive,
  type Member,
  members,
  ownLeafIndex,
} from "./conversation.js";
export { type Endorsement, endorseKeyPackage, endorsementSigner, signerKeyId } from "./endorsement.js";
export { FutureEpochError, MlsEngineError, type MlsErrorCode } from "./errors.js";
export {
  actorIdOf,
  credentialOf,
  type DeviceIdentity,
  decodeDeviceIdentity,
  encodeDeviceIdentity,
  generateDeviceIdentity,
} from "./identity.js";
export {
  DEFAULT_KEY_PACKAGE_LIFETIME_SECONDS,
  generateKeyPackages,
  isLastResort,
  type KeyPackagePoolOptions,
  LAST_RESORT_EXTENSION,
  type OwnKeyPackage,
} from "./keyPackages.js";
export { nodeCryptoProvider } from "./provider.js";
export {
  commitPrecedes,
  type DeferredSignature,
  type IncomingMessage,
  type MessageHeader,
  type ProcessOptions,
  type ProposalSummary,
  processMessage,
  type Received,
  readMessageHeader,
  verifyDeferredSignature,
} from "./receive.js";
export { DEFAULT_SUITE, negotiateSuite, SUPPORTED_SUITES } from "./suite.js";
export { type Joined, joinConversation } from "./welcome.js";
