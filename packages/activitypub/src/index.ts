// @sotto/activitypub: the ActivityPub client-to-server client of Sotto. See README.md.
export { Account, type FollowOptions, type PostResult, type ReceivedItem } from "./account.js";
export { type Actor, link, readActor } from "./actor.js";
export { ActivityPubClient, type ActivityPubClientOptions, type ReadOptions } from "./client.js";
export { type CollectionPage, readPage } from "./collection.js";
export { ActivityPubError, type ActivityPubErrorCode, codeForStatus } from "./errors.js";
export {
  type ActorReference,
  formatHandle,
  type Handle,
  parseActorReference,
  parseHandle,
} from "./handle.js";
export { activityJson, Http, type HttpJsonResponse, type HttpOptions, type HttpRequest } from "./http.js";
export { backoffDelay, defaultRetryPolicy, parseRetryAfter, type RetryPolicy, sleep } from "./retry.js";
export { parseServerSentEvents, type ServerSentEvent } from "./sse.js";
export { webFingerActorId } from "./webfinger.js";
