export {
  type CiphersuiteName,
  ciphersuiteId,
  ciphersuiteNameFromId,
  isCiphersuiteName,
  readCiphersuite,
} from "./ciphersuite.js";
export {
  ACTIVITYSTREAMS_CONTEXT,
  isPublicCollection,
  MLS_CONTEXT,
  PUBLIC_COLLECTION,
  stripTermPrefix,
} from "./context.js";
export {
  asList,
  firstLinkId,
  isJsonObject,
  type JsonObject,
  linkId,
  normalizeTerms,
  typesOf,
} from "./json.js";
export {
  audienceSchema,
  ciphersuiteSchema,
  conversationSchema,
  encodingSchema,
  groupInfoSchema,
  isMlsObjectType,
  keyPackageSchema,
  keyPackagesSchema,
  linkSchema,
  MLS_OBJECT_TYPES,
  type MlsObjectType,
  messagesSchema,
  mlsObjectSchemas,
  privateMessageSchema,
  publicMessageSchema,
  welcomeSchema,
} from "./schemas.js";
