// Helpers for tests and benchmarks that run sotto-server as it is deployed (built: other packages use them).
export {
  dropDatabases,
  ensureMariadb,
  freshDatabase,
  MARIADB,
  TEST_BACKEND,
  testDatabase,
} from "./mariadb.js";
export {
  addUser,
  freePort,
  type ProcessUser,
  processCpuMs,
  type ServerProcess,
  type ServerProcessOptions,
  serverCommand,
  startServerProcess,
  stopChild,
} from "./process.js";
