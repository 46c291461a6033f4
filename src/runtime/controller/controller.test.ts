import { describe, expect, it } from "vitest";
import { FakeClock, settle } from "../clock.ts";
import { RuntimeMetrics } from "../metrics/metrics.ts";
import { ExponentialRateLimiter } from "../workqueue/ratelimiter.ts";
import { Controller, type ReconcileContext, TerminalError } from "./controller.ts";

/** A promise the test resolves when it chooses. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe("Controller", () => {
  it("never reconciles one key on two workers at once, and handles a re-add afterwards", async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    let calls = 0;
    const first = gate();
    const c = new Controller({
      name: "t",
      workers: 4,
      reconcile: async () => {
        calls++;
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        if (calls === 1) await first.promise;
        inFlight--;
        return undefined;
      },
    });
    c.start();
    c.enqueue("a");
    await settle();
    expect(calls).toBe(1);
    c.enqueue("a");
    c.enqueue("a");
    await settle();
    expect(calls).toBe(1);
    first.open();
    await settle();
    expect(calls).toBe(2);
    expect(inFlight).toBe(0);
    expect(maxInFlight).toBe(1);
    await c.stop();
  });

  it("retries errors with backoff, requeues after a delay, and does not retry terminal errors", async () => {
    const clock = new FakeClock();
    const seen: string[] = [];
    const terminal: string[] = [];
    const metrics = new RuntimeMetrics();
    let failures = 0;
    const c = new Controller({
      name: "t",
      workers: 2,
      metrics,
      clock,
      rateLimiter: () => new ExponentialRateLimiter(5, 50),
      onTerminalError: (key) => terminal.push(key),
      reconcile: ({ key }: ReconcileContext) => {
        seen.push(key);
        if (key === "flaky" && failures++ < 2) return Promise.reject(new Error("boom"));
        if (key === "bad") return Promise.reject(new TerminalError("invalid"));
        if (key === "again" && seen.filter((k) => k === "again").length < 3)
          return Promise.resolve({ requeueAfter: 10 });
        if (key === "throws-sync") throw new Error("sync throw");
        return Promise.resolve(undefined);
      },
    });
    c.start();
    for (const k of ["flaky", "bad", "again", "throws-sync", "ok"]) c.enqueue(k);
    const count = (key: string): number => seen.filter((k) => k === key).length;
    await clock.tick(0);
    expect(seen).toEqual(["flaky", "bad", "again", "throws-sync", "ok"]);
    // flaky fails twice (5 ms, then 10 ms of backoff); again asks for 10 ms twice.
    await clock.tick(5);
    expect(count("flaky")).toBe(2);
    await clock.tick(15);
    expect(count("flaky")).toBe(3);
    expect(count("again")).toBe(3);
    await clock.tick(1000);
    expect(count("flaky")).toBe(3);
    expect(count("again")).toBe(3);
    expect(count("bad")).toBe(1);
    expect(terminal).toEqual(["bad"]);
    expect(count("throws-sync")).toBeGreaterThan(1);
    const text = await metrics.registry.metrics();
    expect(text).toContain('controller_runtime_reconcile_total{controller="t",result="terminal_error"} 1');
    expect(text).toContain('controller_runtime_reconcile_total{controller="t",result="requeue_after"} 2');
    await c.stop();
  });

  it("stops handing out work and aborts the signal of running reconciles", async () => {
    let aborted = false;
    const started = gate();
    const c = new Controller({
      name: "t",
      reconcile: async ({ signal }) => {
        started.open();
        await new Promise<void>((resolve) =>
          signal.addEventListener("abort", () => resolve(), { once: true }),
        );
        aborted = signal.aborted;
        return undefined;
      },
    });
    c.start();
    c.enqueue("x");
    await started.promise;
    await c.stop(1000);
    expect(aborted).toBe(true);
    expect(c.running).toBe(false);
  });
});
