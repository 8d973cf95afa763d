// @sotto/api: see README.md.
export {};
