import { KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HungServer } from "../../../test/env/hung-server.ts";
import { Controller } from "../controller/controller.ts";
import { RuntimeMetrics } from "../metrics/metrics.ts";
import { ExponentialRateLimiter } from "../workqueue/ratelimiter.ts";
import { KubeClient } from "./client.ts";
import { KubeTimeoutError } from "./raw.ts";
import { Resources } from "./resources.ts";

let hung: HungServer;

beforeAll(async () => {
  hung = await HungServer.start();
});
afterAll(async () => {
  await hung.stop();
});

function clientOf(server: string, requestTimeoutMs: number): KubeClient {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "hung", server, skipTLSVerify: true }],
    users: [{ name: "u", token: "t" }],
    contexts: [{ name: "c", cluster: "hung", user: "u" }],
    currentContext: "c",
  });
  return new KubeClient(kc, { qps: 1000, burst: 1000, requestTimeoutMs });
}

describe("apiserver request deadlines", () => {
  it("closes a request the apiserver never answers and fails it at the deadline", async () => {
    const client = clientOf(`https://127.0.0.1:${hung.port}`, 100);
    const before = hung.closedByClient;
    const err = await client.get(Resources.configMaps, "default", "x").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeTimeoutError);
    expect(String(err)).toMatch(/no answer from the apiserver within 0.1 s/);
    await hung.closed(before + 1);
  });

  it("frees the worker of a controller whose reconcile hangs on the apiserver, and retries with backoff", async () => {
    const client = clientOf(`https://127.0.0.1:${hung.port}`, 100);
    const errors: unknown[] = [];
    const metrics = new RuntimeMetrics();
    const controller = new Controller({
      name: "deadline",
      metrics,
      workers: 1,
      rateLimiter: () => new ExponentialRateLimiter(10, 1000),
      reconcile: async () => {
        try {
          await client.get(Resources.configMaps, "default", "x");
        } catch (err) {
          errors.push(err);
          throw err;
        }
        return undefined;
      },
    });
    controller.start();
    controller.enqueue("default/a");
    // One worker: a third attempt can only start after the first two freed it at their deadline.
    await expect.poll(() => errors.length, { timeout: 10_000, interval: 20 }).toBeGreaterThanOrEqual(3);
    await controller.stop();
    expect(errors.every((e) => e instanceof KubeTimeoutError)).toBe(true);
    const retries = (await metrics.queueRetries.get()).values.find((v) => v.labels.name === "deadline");
    expect(retries?.value).toBeGreaterThanOrEqual(2);
  });
});
