import { describe, expect, it } from "vitest";
import { OwnWrites } from "./own-writes.ts";

describe("OwnWrites", () => {
  it("calls the version a write replaced stale until the cache shows another", () => {
    const writes = new OwnWrites();
    expect(writes.stale("ns/m1", "10")).toBe(false);
    writes.wrote("ns/m1", "10");
    expect(writes.stale("ns/m1", "10")).toBe(true);
    expect(writes.stale("ns/m2", "10")).toBe(false);
    expect(writes.stale("ns/m1", "12")).toBe(false);
    // Once the cache caught up, an old version is no longer remembered.
    expect(writes.stale("ns/m1", "10")).toBe(false);
  });

  it("calls every version one reconcile's writes passed through stale (object, then status)", () => {
    const writes = new OwnWrites();
    writes.wrote("ns/m1", "10");
    writes.wrote("ns/m1", "11");
    expect(writes.stale("ns/m1", "10")).toBe(true);
    expect(writes.stale("ns/m1", "11")).toBe(true);
    expect(writes.stale("ns/m1", "12")).toBe(false);
  });

  it("forgets a key, and ignores a write over an object without a version", () => {
    const writes = new OwnWrites();
    writes.wrote("ns/m1", "3");
    writes.forget("ns/m1");
    expect(writes.stale("ns/m1", "3")).toBe(false);
    writes.wrote("ns/m1", undefined);
    expect(writes.stale("ns/m1", undefined)).toBe(false);
  });
});
