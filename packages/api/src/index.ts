// @sotto/api: the contract of sottod's local API (zod schemas of every method, result, error and event), the
// documents generated from it, and the typed SottoClient. See README.md.

export {
  API_PROTOCOL,
  ClientError,
  type ClientErrorCode,
  type ConnectionState,
  type Fresh,
  type SocketLike,
  SottoClient,
  type SottoClientOptions,
  TOKEN_PROTOCOL_PREFIX,
  type WebSocketConstructor,
} from "./client.js";
export { API_ERRORS, ApiError, ApiErrorCode, ApiErrorData, RpcError } from "./errors.js";
export * from "./events.js";
export {
  EventNotification,
  errorFrame,
  eventFrame,
  RequestId,
  RpcRequest,
  RpcResponse,
  resultFrame,
} from "./jsonrpc.js";
export {
  isMethodName,
  METHOD_NAMES,
  type MethodName,
  type MethodSpec,
  type Methods,
  methods,
  type Params,
  type ParamsIn,
  type Result,
} from "./methods.js";
export * from "./model.js";
export {
  API_VERSION,
  contractSchemas,
  type JsonSchema,
  jsonSchemaBundle,
  openRpcDocument,
} from "./openrpc.js";
