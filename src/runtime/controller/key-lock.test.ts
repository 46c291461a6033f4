import { describe, expect, it } from "vitest";
import { KeyLock } from "./key-lock.ts";

/** A promise and its resolver, to hold a lock open until the test says so. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

describe("KeyLock", () => {
  it("runs holders of one key one after another, in order, and other keys beside them", async () => {
    const lock = new KeyLock();
    const log: string[] = [];
    const first = gate();
    const a = lock.run("m1", async () => {
      log.push("a start");
      await first.promise;
      log.push("a end");
    });
    const b = lock.run("m1", () => {
      log.push("b");
      return Promise.resolve();
    });
    const c = lock.run("m2", () => {
      log.push("c");
      return Promise.resolve();
    });
    await c;
    expect(log).toEqual(["a start", "c"]);
    expect(lock.held("m1")).toBe(true);
    first.open();
    await Promise.all([a, b]);
    expect(log).toEqual(["a start", "c", "a end", "b"]);
    expect(lock.held("m1")).toBe(false);
    expect(lock.held("m2")).toBe(false);
  });

  it("releases the key when a holder throws", async () => {
    const lock = new KeyLock();
    await expect(lock.run("m1", () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(lock.held("m1")).toBe(false);
    await expect(lock.run("m1", () => Promise.resolve(7))).resolves.toBe(7);
  });
});
