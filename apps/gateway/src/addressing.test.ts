import { describe, expect, it } from "vitest";
import { handleForJid, jidForHandle, jidForUsername, parseBareJid, usernameForJid } from "./addressing.js";

const COMPONENT = "fedi.example.org";

describe("Fediverse actor <-> component JID", () => {
  it("escapes the handle into the localpart and back", () => {
    const j = jidForHandle("Bob@Social.Example:8443", COMPONENT);
    expect(j).toBe("bob\\40social.example\\3a8443@fedi.example.org");
    expect(handleForJid(`${j}/res`, COMPONENT)).toEqual({ ok: true, value: "bob@social.example:8443" });
  });

  it("rejects JIDs of other domains and localparts that are no handle", () => {
    const other = handleForJid("bob\\40social.example@elsewhere.org", COMPONENT);
    expect(other.ok || other.error.code).toBe("not_component");
    const noHandle = handleForJid(`bob@${COMPONENT}`, COMPONENT);
    expect(noHandle.ok || noHandle.error.code).toBe("bad_handle");
    const notJid = handleForJid(COMPONENT, COMPONENT);
    expect(notJid.ok || notJid.error.code).toBe("bad_jid");
  });
});

describe("XMPP user <-> gateway username", () => {
  const roundTrip = (address: string) => {
    const parsed = parseBareJid(address);
    if (!parsed.ok) throw parsed.error;
    const name = usernameForJid(parsed.value, "example.org");
    const back = jidForUsername(name, "example.org");
    if (!back.ok) throw back.error;
    return { name, back: `${back.value.local}@${back.value.domain}` };
  };

  it("maps simple JIDs of the default domain directly", () => {
    expect(roundTrip("alice@example.org/phone")).toEqual({ name: "alice", back: "alice@example.org" });
    expect(roundTrip("Jean.Luc-P_1@Example.org")).toEqual({
      name: "jean.luc-p_1",
      back: "jean.luc-p_1@example.org",
    });
  });

  it("escapes other domains and characters reversibly into [a-z0-9_]", () => {
    for (const address of [
      "carol@other.example",
      "o+neil@example.org",
      "___x@example.org",
      "zoë@example.org",
    ]) {
      const { name, back } = roundTrip(address);
      expect(name).toMatch(/^___[0-9a-f]+$/);
      expect(back).toBe(address.toLowerCase());
    }
  });

  it("refuses usernames that cannot come from a JID", () => {
    const bad = jidForUsername("no spaces", "example.org");
    expect(bad.ok || bad.error.code).toBe("bad_username");
    const badHex = jidForUsername("___zz", "example.org");
    expect(badHex.ok || badHex.error.code).toBe("bad_username");
  });
});
