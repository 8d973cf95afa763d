import { describe, expect, it } from "vitest";
import { parseDemoArgs } from "./args.js";
import { DemoError } from "./errors.js";

describe("parseDemoArgs", () => {
  it("defaults: one account, .sotto in the current directory, the kept port", () => {
    expect(parseDemoArgs([], "/repo")).toEqual({
      demo: false,
      dataDir: "/repo/.sotto",
      port: undefined,
      help: false,
    });
  });

  it("reads --demo, --data-dir (relative to cwd) and --port, also after npm's `--`", () => {
    expect(parseDemoArgs(["--", "--demo", "--data-dir", "state", "--port", "8080"], "/repo")).toEqual({
      demo: true,
      dataDir: "/repo/state",
      port: 8080,
      help: false,
    });
  });

  it.each([["--port", "0"], ["--port", "70000"], ["--port", "12ab"], ["--bogus"], ["positional"]])(
    "refuses %s %s with a typed error",
    (...argv) => {
      expect(() => parseDemoArgs(argv, "/repo")).toThrow(DemoError);
      try {
        parseDemoArgs(argv, "/repo");
      } catch (error) {
        expect((error as DemoError).code).toBe("bad_arguments");
      }
    },
  );
});
