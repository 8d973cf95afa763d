// @sotto/core: see README.md.
export {};
