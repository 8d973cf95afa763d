// @sotto/gateway: see README.md.
export {};
