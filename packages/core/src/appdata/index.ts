export {
  MAX_ATTACHMENTS,
  MAX_ID_LENGTH,
  MAX_INLINE_MEDIA_BASE64,
  MAX_INLINE_MEDIA_BYTES,
  MAX_MEDIA_TYPE_LENGTH,
  MAX_NAME_LENGTH,
  MAX_REACTION_LENGTH,
  MAX_TITLE_LENGTH,
} from "../limits.js";
export { checkAuthorship, modifiedObjectId } from "./authorship.js";
export {
  CONVERSATION_CONTEXT_TYPE,
  isConversationContext,
  readConversationContext,
} from "./conversationContext.js";
export { APP_DATA_ERROR_CODES, AppDataError, type AppDataErrorCode } from "./errors.js";
export { HTML_ALLOWED_SCHEMES, HTML_ALLOWED_TAGS } from "./htmlPolicy.js";
export { canonicalApplicationId, isWebUrl, newApplicationId } from "./ids.js";
export {
  ACTIVITY_TYPES,
  type ActivityObject,
  type ActivityType,
  type ApplicationActivity,
  type ApplicationData,
  ATTACHMENT_TYPES,
  AUTHOR_ONLY_ACTIVITIES,
  CONTENT_TYPES,
  type ContentObject,
  type ContentType,
  type ConversationContext,
  type EmbeddedActivity,
  type Media,
  type Tag,
  type UnsupportedData,
} from "./model.js";
export { readApplicationData } from "./read.js";
export { MAX_HTML_LENGTH, sanitizeHtmlField, sanitizeTextField } from "./sanitize.js";
export { textToHtml } from "./text.js";
export { applicationDataToJson, contentObjectToJson, writeApplicationData } from "./write.js";
