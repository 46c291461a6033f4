import { describe, expect, it } from "vitest";
import { mergePatch } from "./patch.ts";

describe("mergePatch", () => {
  it("contains only what changed", () => {
    const before = { spec: { a: 1, b: { c: 2, d: 3 } }, status: { phase: "Pending" } };
    const after = { spec: { a: 1, b: { c: 2, d: 4 } }, status: { phase: "Running" } };
    expect(mergePatch(before, after)).toEqual({ spec: { b: { d: 4 } }, status: { phase: "Running" } });
  });

  it("nulls removed keys and replaces arrays whole", () => {
    expect(mergePatch({ a: 1, list: [1, 2], x: "y" }, { list: [1, 3], x: "y" })).toEqual({
      a: null,
      list: [1, 3],
    });
  });

  it("is undefined when nothing changed, so the write is skipped", () => {
    expect(mergePatch({ a: { b: [1, { c: 2 }] } }, { a: { b: [1, { c: 2 }] } })).toBeUndefined();
  });
});
