import { describe, expect, it } from "vitest";
import { FakeClock } from "./clock.ts";

describe("FakeClock", () => {
  it("runs timers in due order on tick, including timers set by timers", async () => {
    const clock = new FakeClock(1000);
    const ran: string[] = [];
    clock.setTimeout(() => ran.push("b@20"), 20);
    clock.setTimeout(() => {
      ran.push("a@10");
      clock.setTimeout(() => ran.push("c@15"), 5);
    }, 10);
    const cancelled = clock.setTimeout(() => ran.push("never"), 5);
    cancelled.cancel();
    await clock.tick(9);
    expect(ran).toEqual([]);
    expect(clock.nextIn()).toBe(1);
    await clock.tick(11);
    expect(ran).toEqual(["a@10", "c@15", "b@20"]);
    expect(clock.now()).toBe(1020);
    expect(clock.pending).toBe(0);
  });

  it("wakes sleeps when their time comes or their signal aborts", async () => {
    const clock = new FakeClock();
    const woke: string[] = [];
    void clock.sleep(100).then(() => woke.push("timer"));
    const abort = new AbortController();
    void clock.sleep(1000, abort.signal).then(() => woke.push("aborted"));
    await clock.tick(100);
    expect(woke).toEqual(["timer"]);
    abort.abort();
    await clock.tick(0);
    expect(woke).toEqual(["timer", "aborted"]);
    expect(clock.pending).toBe(0);
  });

  it("runNext jumps to the next timer and says when there is none", async () => {
    const clock = new FakeClock(0);
    let fired = false;
    clock.setTimeout(() => (fired = true), 60_000);
    expect(await clock.runNext()).toBe(true);
    expect(fired).toBe(true);
    expect(clock.now()).toBe(60_000);
    expect(await clock.runNext()).toBe(false);
  });
});
