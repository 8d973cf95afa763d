// What both delivery queues' loops share.

/**
 * When a message whose handler threw is tried again. Fedify retries failed deliveries itself, so a throw means
 * its own handling failed (a database error under it, say): the message is kept rather than lost.
 */
export const RETRY_AFTER_THROW_MS = 5000;
