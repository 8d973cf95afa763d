// @sotto/server: see README.md.
export {};
