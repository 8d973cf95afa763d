// @sotto/fedify: MLS key delivery for any Fedify server. See README.md.

export { CachedKvStore } from "./cachedKv.js";
export { EVENT_STREAM, type LogCollection, respondWithLog } from "./collections.js";
export { mlsContextDocument, withMlsContext } from "./context.js";
export {
  type DeliveryPolicy,
  deliveryPolicy,
  GIVE_UP_AFTER_DAYS,
  MAX_RETRY_DELAY_SECONDS,
  PROBE_DELAY_SECONDS,
} from "./delivery.js";
export { addMlsToActor, respondWithKeyPackage, respondWithKeyPackages, withMlsActor } from "./directory.js";
export {
  DatabaseError,
  type DatabaseErrorCode,
  MlsDeliveryError,
  type MlsDeliveryErrorCode,
} from "./errors.js";
export { ActivityFeed, type ActivityFeedOptions, type FeedSubscriber } from "./feed.js";
export { GroupCommit } from "./groupCommit.js";
export { applyKeyPackageActivity, type KeyPackageLifecycleOptions } from "./keyPackages.js";
export { type MlsLoaderFactories, type MlsLoaderOptions, mlsLoaderFactories } from "./loaders.js";
export {
  activityLogIndex,
  activityLogTable,
  appendTogether,
  keyPackageTable,
  type LogAppend,
  type OwnedActivity,
  type PendingAppend,
  SqlActivityLog,
  SqlKeyPackageStore,
} from "./logs.js";
export { type Migration, migrate, schemaVersion } from "./migrate.js";
export { mysqlSql, openMysqlPool, redactUrl } from "./mysql-sql.js";
export { QuietKvStore } from "./quietKv.js";
export { ACTIVITY_JSON, errorResponse, jsonBodyOf, jsonResponse } from "./responses.js";
export {
  checkTableName,
  columnTypes,
  ignoreDuplicate,
  type Sql,
  type SqlDialect,
  type SqlRun,
  type SqlStatement,
  type SqlValue,
  updateDuplicate,
} from "./sql.js";
export { sqliteSql } from "./sqlite-sql.js";
export type { ActivityLog, KeyPackageRecord, KeyPackageStore, LoggedActivity } from "./storage.js";
export { carriesMls, type ValidateMlsOptions, validateMls } from "./validate.js";
