// The limits live in @sotto/shared (zero dependencies, Node 20+), shared with @sotto/api's schemas.
export * from "@sotto/shared/limits";
