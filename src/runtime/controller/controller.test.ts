import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { RuntimeMetrics } from "../metrics/metrics.ts";
import { ExponentialRateLimiter } from "../workqueue/ratelimiter.ts";
import { Controller, type ReconcileContext, TerminalError } from "./controller.ts";

const until = async (cond: () => boolean, ms = 3000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met");
    await sleep(5);
  }
};

describe("Controller", () => {
  it("never reconciles one key on two workers at once, and handles a re-add afterwards", async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    let calls = 0;
    const c = new Controller({
      name: "t",
      workers: 4,
      reconcile: async () => {
        calls++;
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await sleep(20);
        inFlight--;
        return undefined;
      },
    });
    c.start();
    c.enqueue("a");
    await sleep(5);
    c.enqueue("a");
    c.enqueue("a");
    await until(() => calls === 2 && inFlight === 0);
    expect(maxInFlight).toBe(1);
    await c.stop();
  });

  it("retries errors with backoff, requeues after a delay, and does not retry terminal errors", async () => {
    const seen: string[] = [];
    const terminal: string[] = [];
    const metrics = new RuntimeMetrics();
    let failures = 0;
    const c = new Controller({
      name: "t",
      workers: 2,
      metrics,
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
    await until(
      () => seen.filter((k) => k === "flaky").length === 3 && seen.filter((k) => k === "again").length === 3,
    );
    await sleep(30);
    expect(seen.filter((k) => k === "bad")).toHaveLength(1);
    expect(terminal).toEqual(["bad"]);
    expect(seen.filter((k) => k === "throws-sync").length).toBeGreaterThan(1);
    const text = await metrics.registry.metrics();
    expect(text).toContain('controller_runtime_reconcile_total{controller="t",result="terminal_error"} 1');
    expect(text).toContain('controller_runtime_reconcile_total{controller="t",result="requeue_after"} 2');
    await c.stop();
  });

  it("stops handing out work and aborts the signal of running reconciles", async () => {
    let aborted = false;
    const c = new Controller({
      name: "t",
      reconcile: async ({ signal }) => {
        await new Promise<void>((resolve) =>
          signal.addEventListener("abort", () => resolve(), { once: true }),
        );
        aborted = signal.aborted;
        return undefined;
      },
    });
    c.start();
    c.enqueue("x");
    await sleep(10);
    await c.stop(1000);
    expect(aborted).toBe(true);
    expect(c.running).toBe(false);
  });
});
