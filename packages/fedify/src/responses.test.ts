import { describe, expect, it } from "vitest";
import { ACTIVITY_JSON, errorResponse, jsonBodyOf, jsonResponse } from "./responses.js";

describe("jsonResponse", () => {
  it("is a Fetch API response whose body reads as the JSON it was given", async () => {
    const body = { type: "Note", content: "héllo ✓", n: [1, 2] };
    const response = jsonResponse(body, 201);
    expect(response.status).toBe(201);
    expect(response.headers.get("content-type")).toBe(ACTIVITY_JSON);
    expect(await response.json()).toEqual(body);
  });

  it("hands its bytes to a server without reading the body, and not once the body was read", async () => {
    const response = errorResponse(404, "unknown_item", "after names no item");
    const bytes = jsonBodyOf(response);
    expect(new TextDecoder().decode(bytes)).toBe('{"error":"unknown_item","message":"after names no item"}');
    expect(response.bodyUsed).toBe(false);
    await response.text();
    expect(jsonBodyOf(response)).toBeUndefined();
  });

  it("knows no other response's body", () => {
    expect(jsonBodyOf(new Response("{}"))).toBeUndefined();
  });
});
