// @sotto/daemon: see README.md.
export {};
