// @sotto/fedify: see README.md.
export {};
