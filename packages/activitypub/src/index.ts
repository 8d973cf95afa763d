// @sotto/activitypub: see README.md.
export {};
