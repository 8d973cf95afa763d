// What other packages' tests use to run real daemons: in-process worlds (`world.ts`) and the built programs as
// child processes (`programs.ts`: `startSottod`, `runProgram`).
export * from "./programs.js";
export * from "./world.js";
