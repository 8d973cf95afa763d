import { describe, expect, it } from "vitest";
import { fetchFiles, formatSize } from "./media.js";

describe("fetchFiles", () => {
  it("refuses links that are not http(s), and private addresses unless allowed", async () => {
    const ftp = await fetchFiles(["ftp://files.example/x"]);
    expect(ftp.ok || ftp.error.code).toBe("bad_url");
    const loopback = await fetchFiles(["http://127.0.0.1:9/secret"]);
    expect(loopback.ok || [loopback.error.code, loopback.error.message]).toEqual([
      "unreachable",
      "the file could not be fetched (invalid_url)",
    ]);
  });

  it("states sizes for people", () => {
    expect([formatSize(10), formatSize(1024), formatSize(512 * 1024 + 1)]).toEqual([
      "10 B",
      "1 KiB",
      "513 KiB",
    ]);
  });
});
