import { describe, expect, it } from "vitest";
import { type Phase, runPhases, type Scope } from "./phases.ts";

interface Counter extends Scope<{ n: number }> {
  readonly ran: string[];
}

const step =
  (name: string, out?: { requeueAfter?: number; stop?: boolean }): Phase<Counter> =>
  (s) => {
    s.ran.push(name);
    s.draft = { n: s.draft.n + 1 };
    return out;
  };

describe("runPhases", () => {
  it("runs the phases in order, takes the shortest requeue and writes the draft once", async () => {
    const writes: number[] = [];
    const scope: Counter = { draft: { n: 0 }, ran: [] };
    const result = await runPhases(
      scope,
      [step("a", { requeueAfter: 500 }), step("b"), step("c", { requeueAfter: 100 })],
      (d) => {
        writes.push(d.n);
        return Promise.resolve();
      },
    );
    expect(scope.ran).toEqual(["a", "b", "c"]);
    expect(result).toEqual({ requeueAfter: 100 });
    expect(writes).toEqual([3]);
  });

  it("stops after a phase that says so, and still writes", async () => {
    const writes: number[] = [];
    const scope: Counter = { draft: { n: 0 }, ran: [] };
    const result = await runPhases(scope, [step("a", { stop: true }), step("b")], (d) => {
      writes.push(d.n);
      return Promise.resolve();
    });
    expect(scope.ran).toEqual(["a"]);
    expect(result).toBeUndefined();
    expect(writes).toEqual([1]);
  });

  it("writes what the phases before a failure did and rethrows the failure, not the write's", async () => {
    const writes: number[] = [];
    const boom: Phase<Counter> = () => {
      throw new Error("boom");
    };
    const scope: Counter = { draft: { n: 0 }, ran: [] };
    await expect(
      runPhases(scope, [step("a"), boom, step("b")], (d) => {
        writes.push(d.n);
        return Promise.reject(new Error("write failed"));
      }),
    ).rejects.toThrow("boom");
    expect(writes).toEqual([1]);
  });
});
