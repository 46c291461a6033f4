import { describe, expect, it } from "vitest";
import { selectorMatches, selectorString } from "./selector.ts";

describe("label selectors", () => {
  it("match labels and expressions as apimachinery does", () => {
    const sel = {
      matchLabels: { app: "w" },
      matchExpressions: [
        { key: "zone", operator: "In", values: ["a", "b"] },
        { key: "gpu", operator: "DoesNotExist" },
      ],
    };
    expect(selectorMatches(sel, { app: "w", zone: "a" })).toBe(true);
    expect(selectorMatches(sel, { app: "w", zone: "c" })).toBe(false);
    expect(selectorMatches(sel, { app: "w", zone: "a", gpu: "1" })).toBe(false);
    expect(selectorMatches({}, { any: "thing" })).toBe(true);
    expect(selectorMatches(undefined, { any: "thing" })).toBe(false);
    expect(selectorMatches({ matchExpressions: [{ key: "k", operator: "Bogus" }] }, { k: "v" })).toBe(false);
    expect(selectorString(sel)).toBe("!gpu,app=w,zone in (a,b)");
  });
});
