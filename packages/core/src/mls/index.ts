// The MLS engine: see ../../README.md.
export {};
