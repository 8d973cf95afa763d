import { Readable, Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { keySourceFromArgs } from "./keySource.js";

const sink = () =>
  new Writable({
    write(_chunk, _encoding, done) {
      done();
    },
  });

describe("keySourceFromArgs", () => {
  it("prefers a key file, then a systemd credential", async () => {
    expect(await keySourceFromArgs({ keyFile: "/k", credential: "c" })).toEqual({ keyFile: "/k" });
    expect(await keySourceFromArgs({ credential: "sotto-key" })).toEqual({ credential: "sotto-key" });
  });

  it("reads the passphrase from the first line of a non-terminal input, without a prompt", async () => {
    const written: string[] = [];
    const output = new Writable({
      write(chunk, _encoding, done) {
        written.push(String(chunk));
        done();
      },
    });
    const key = await keySourceFromArgs(
      {},
      { input: Readable.from(["s3cret pass\nignored\n"]), output, confirm: true },
    );
    expect(key).toEqual({ passphrase: "s3cret pass" });
    expect(written.join("")).toBe("");
  });

  it("refuses an empty passphrase and a closed input", async () => {
    await expect(
      keySourceFromArgs({}, { input: Readable.from(["\n"]), output: sink() }),
    ).rejects.toMatchObject({ code: "no_key" });
    await expect(keySourceFromArgs({}, { input: Readable.from([]), output: sink() })).rejects.toMatchObject({
      code: "no_key",
    });
  });
});
