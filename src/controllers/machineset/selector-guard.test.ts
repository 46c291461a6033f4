import { describe, expect, it } from "vitest";
import type { LabelSelector } from "../../runtime/selector.ts";
import { selectorProblem } from "./selector-guard.ts";

const labels = { name: "pool", zone: "a" };
const problem = (selector: unknown) => selectorProblem(selector as LabelSelector | undefined, labels);

describe("selectorProblem", () => {
  it("accepts selectors that select the template", () => {
    expect(problem({ matchLabels: { name: "pool" } })).toBeUndefined();
    expect(
      problem({
        matchExpressions: [
          { key: "zone", operator: "In", values: ["a", "b"] },
          { key: "name", operator: "Exists" },
          { key: "gpu", operator: "DoesNotExist" },
          { key: "zone", operator: "NotIn", values: ["c"] },
        ],
      }),
    ).toBeUndefined();
  });

  it("refuses a missing or empty selector", () => {
    expect(problem(undefined)).toMatch(/^spec.selector is missing/);
    expect(problem(null)).toMatch(/^spec.selector is missing/);
    expect(problem({})).toMatch(/^spec.selector is empty/);
    expect(problem({ matchLabels: {}, matchExpressions: [] })).toMatch(/^spec.selector is empty/);
  });

  it("refuses unknown operators and values that break Kubernetes' rules", () => {
    expect(problem({ matchExpressions: [{ key: "zone", operator: "Equals", values: ["a"] }] })).toBe(
      'spec.selector.matchExpressions[0].operator "Equals" is not one of In, NotIn, Exists, DoesNotExist',
    );
    expect(problem({ matchExpressions: [{ key: "zone", operator: "In", values: [] }] })).toMatch(
      /matchExpressions\[0\]\.values must not be empty/,
    );
    expect(problem({ matchExpressions: [{ key: "zone", operator: "Exists", values: ["a"] }] })).toMatch(
      /matchExpressions\[0\]\.values must be empty/,
    );
    expect(problem({ matchExpressions: "zone" })).toMatch(/not a list/);
  });

  it("refuses a selector the template's labels do not satisfy", () => {
    expect(problem({ matchLabels: { name: "other" } })).toMatch(/does not select spec.template/);
    expect(problem({ matchExpressions: [{ key: "zone", operator: "NotIn", values: ["a"] }] })).toMatch(
      /does not select spec.template/,
    );
    expect(selectorProblem({ matchLabels: { name: "pool" } }, undefined)).toMatch(/does not select/);
  });
});
