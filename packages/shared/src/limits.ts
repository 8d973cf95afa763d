// The size and shape limits of application data: one set for everything Sotto reads, sends and returns through
// its API. A received message that breaks one is refused as a whole, so that nothing is stored that the API
// could not return (the API's schemas and the daemon's send checks use these same numbers). Pure constants:
// importable from browsers and Node 20 (`@sotto/shared/limits`, re-exported as `@sotto/core/limits`).

/** Ids of messages and activities (and what `inReplyTo` or an activity's `object` names), in characters. */
export const MAX_ID_LENGTH = 2048;

/**
 * The longest HTML or text field read. Sanitizing deeply nested markup costs time that grows faster than its
 * length (200,000 nested tags took 10 s here); at this size the worst case stays well under a second.
 */
export const MAX_HTML_LENGTH = 100_000;

/** The inline media of one message in all (attachments and a media object's own content), in bytes. */
export const MAX_INLINE_MEDIA_BYTES = 512 * 1024;

/** Base64 of `MAX_INLINE_MEDIA_BYTES`: the longest `data` of one attachment the API returns or takes. */
export const MAX_INLINE_MEDIA_BASE64 = 4 * Math.ceil(MAX_INLINE_MEDIA_BYTES / 3);

/** Attachments of one message. */
export const MAX_ATTACHMENTS = 16;

/** A media type (`image/png`), in characters. */
export const MAX_MEDIA_TYPE_LENGTH = 255;

/** An attachment's file name (its `name`), in characters. */
export const MAX_NAME_LENGTH = 1024;

/** A reaction: one emoji or a short text (a `Like`'s `content`), in characters. */
export const MAX_REACTION_LENGTH = 64;

/** A conversation's title (the `name` of its shared context), in characters. */
export const MAX_TITLE_LENGTH = 256;
