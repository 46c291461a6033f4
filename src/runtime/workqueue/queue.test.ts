import { describe, expect, it } from "vitest";
import { type Clock, FakeClock, settle } from "../clock.ts";
import { WorkQueue } from "./queue.ts";
import { ExponentialRateLimiter, TokenBucket } from "./ratelimiter.ts";

const newQueue = (clock?: Clock): WorkQueue =>
  new WorkQueue({ name: "test", rateLimiter: new ExponentialRateLimiter(5, 1000), ...(clock && { clock }) });

describe("WorkQueue", () => {
  it("holds a waiting key once however often it is added", async () => {
    const q = newQueue();
    q.add("a");
    q.add("b");
    q.add("a");
    expect(q.length).toBe(2);
    expect(await q.get()).toBe("a");
    expect(await q.get()).toBe("b");
  });

  it("never hands out a key that is being processed; a re-add is handled after done", async () => {
    const q = newQueue();
    q.add("a");
    const first = await q.get();
    q.add("a");
    expect(q.length).toBe(0);
    let second: string | undefined;
    void q.get().then((k) => (second = k));
    await settle();
    expect(second).toBeUndefined();
    q.done(first ?? "");
    await settle();
    expect(second).toBe("a");
  });

  it("wakes a waiting worker when a key arrives", async () => {
    const q = newQueue();
    const got = q.get();
    q.add("x");
    expect(await got).toBe("x");
  });

  it("delays addAfter and keeps the earliest time for a key", async () => {
    const clock = new FakeClock();
    const q = newQueue(clock);
    q.addAfter("k", 200);
    q.addAfter("k", 20);
    q.addAfter("k", 500);
    await clock.tick(19);
    expect(q.length).toBe(0);
    await clock.tick(1);
    expect(q.length).toBe(1);
    expect(await q.get()).toBe("k");
    q.done("k");
    await clock.tick(1000);
    expect(q.length).toBe(0);
    expect(clock.pending).toBe(0);
  });

  it("backs off exponentially per key until forgotten", async () => {
    const clock = new FakeClock();
    const q = newQueue(clock);
    const delays: (number | undefined)[] = [];
    for (let i = 0; i < 4; i++) {
      q.addRateLimited("k");
      delays.push(clock.nextIn());
      await clock.runNext();
      const k = await q.get();
      q.done(k ?? "");
    }
    expect(q.retries("k")).toBe(4);
    expect(delays).toEqual([5, 10, 20, 40]);
    q.forget("k");
    expect(q.retries("k")).toBe(0);
  });

  it("shuts down: waiting gets resolve undefined, adds are ignored, drain waits for work", async () => {
    const q = newQueue();
    q.add("busy");
    const busy = await q.get();
    const waiting = q.get();
    let drained = false;
    const drain = q.shutDownWithDrain().then(() => (drained = true));
    expect(await waiting).toBeUndefined();
    q.add("late");
    expect(q.length).toBe(0);
    await settle();
    expect(drained).toBe(false);
    q.done(busy ?? "");
    await drain;
    expect(drained).toBe(true);
  });
});

describe("TokenBucket", () => {
  it("allows a burst, then spaces requests at the rate", () => {
    let now = 0;
    const bucket = new TokenBucket(10, 3, () => now);
    expect([bucket.reserve(), bucket.reserve(), bucket.reserve()]).toEqual([0, 0, 0]);
    expect(bucket.reserve()).toBe(100);
    now = 1000;
    expect(bucket.tryTake()).toBe(true);
  });

  it("tryTake never goes into debt", () => {
    let now = 0;
    const bucket = new TokenBucket(1, 1, () => now);
    expect(bucket.tryTake()).toBe(true);
    expect(bucket.tryTake()).toBe(false);
    expect(bucket.tryTake()).toBe(false);
    now = 1000;
    expect(bucket.tryTake()).toBe(true);
  });
});

describe("Fifo", () => {
  it("keeps order across compactions", async () => {
    const { Fifo } = await import("./fifo.ts");
    const f = new Fifo<number>();
    const out: number[] = [];
    for (let i = 0; i < 5000; i++) {
      f.push(i);
      if (i % 3 === 0) out.push(f.shift() ?? -1);
    }
    while (f.length > 0) out.push(f.shift() ?? -1);
    expect(out).toEqual(Array.from({ length: 5000 }, (_, i) => i));
    expect(f.shift()).toBeUndefined();
  });
});
