// @sotto/storage: see README.md.
export {};
