export { decodeBase64, encodeBase64 } from "./base64.js";
export { parseJsonText } from "./document.js";
export { ENVELOPE_ERROR_CODES, EnvelopeError, type EnvelopeErrorCode } from "./errors.js";
export {
  KEY_PACKAGE_ACTIVITIES,
  type KeyPackageActivity,
  type KeyPackageActivityType,
  readKeyPackageActivity,
} from "./keyPackageActivity.js";
export {
  ENDORSEMENT_CONTEXT,
  type KeyPackageObject,
  type KeyPackageObjectInput,
  type KeyPackageObjectJson,
  readKeyPackageObject,
  writeKeyPackageObject,
} from "./keyPackageObject.js";
export {
  type KeyPackageItem,
  type KeyPackageListing,
  readKeyPackageCollection,
  readKeyPackagesProperty,
  readMessagesProperty,
} from "./keyPackages.js";
export { type DecodedMls, decodeMlsContent, frameKeyPackage, type MlsKind, peekKind } from "./mlsBytes.js";
export { type Envelope, type ReadEnvelopeOptions, readEnvelope } from "./read.js";
export {
  defaultSummary,
  type Generator,
  type MessageCreateActivity,
  type MessageCreateInput,
  MLS_JSON_LD_CONTEXT,
  type MlsMessageObject,
  writeMessageCreate,
} from "./writeMessage.js";
