// SottoError lives in @sotto/shared (zero dependencies, Node 20+) so that @sotto/api need not depend on core.
export { SottoError } from "@sotto/shared/errors";
