import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import type { Machine, MachineClass } from "../api/index.ts";
import { type ErrorCode, type FlowKind, type RetryClass, retryClassOf } from "./codes.ts";
import type { DriverLogger } from "./context.ts";
import type { SecretData } from "./driver.ts";
import { MachineError } from "./errors.ts";
import { FakeDriver } from "./fake.ts";
import { DriverRegistry } from "./registry.ts";

const SECRET_VALUE = "wJalrXUtnFEMI-not-a-real-key";
const secret: SecretData = {
  providerSecretAccessKey: Buffer.from(SECRET_VALUE),
  userData: Buffer.from("#!"),
};
const machineClass: MachineClass = { metadata: { name: "small" }, provider: "Fake", providerSpec: {} };
const machine = (name: string): Machine => ({
  metadata: { name, namespace: "shoot--a--b", uid: `uid-${name}` },
  spec: { class: { kind: "MachineClass", name: "small" } },
});
const req = (name: string, signal?: AbortSignal) => ({
  machine: machine(name),
  machineClass,
  secret,
  ...(signal ? { signal } : {}),
});

/** Log lines as written, to check what never appears in them. */
function recordingLogger(lines: string[]): DriverLogger {
  const log =
    (level: string) =>
    (obj: Record<string, unknown> | string, msg?: string): void => {
      lines.push(`${level} ${JSON.stringify(obj)} ${msg ?? ""}`);
    };
  const logger: DriverLogger = {
    debug: log("debug"),
    info: log("info"),
    warn: log("warn"),
    error: log("error"),
    child: () => logger,
  };
  return logger;
}

async function rejection(p: Promise<unknown>): Promise<MachineError> {
  try {
    await p;
  } catch (err) {
    return MachineError.from(err);
  }
  throw new Error("the call succeeded");
}

function setup(opts: { timeoutMs?: number } = {}) {
  const fake = new FakeDriver();
  const metrics = new Registry();
  const lines: string[] = [];
  const registry = new DriverRegistry({
    pluginDirs: [],
    context: { env: {}, logger: recordingLogger(lines) },
    metrics,
    callTimeoutMs: opts.timeoutMs ?? 60_000,
  });
  registry.register("Fake", fake);
  return { fake, metrics, lines, driver: () => registry.driverFor("fake") };
}

const value = async (metrics: Registry, name: string, labels: Record<string, string>): Promise<number> => {
  const metric = metrics.getSingleMetric(name);
  const data = await metric?.get();
  const match = data?.values.find((v) =>
    Object.entries(labels).every(([k, l]) => (v.labels as Record<string, unknown>)[k] === l),
  );
  return match?.value ?? 0;
};

describe("the registry's decorators", () => {
  it("frees the caller at the deadline with DeadlineExceeded and aborts the driver's signal", async () => {
    const { fake, driver } = setup({ timeoutMs: 50 });
    fake.fail("getMachineStatus", "hang");
    const err = await rejection((await driver()).getMachineStatus(req("hung")));
    expect(err.code).toBe("DeadlineExceeded");
    expect(err.message).toMatch(/GetMachineStatus did not finish within 0.05 s \(--driver-call-timeout\)/);
  });

  it("frees the caller even when the driver ignores its signal", async () => {
    const deaf = new FakeDriver();
    deaf.getMachineStatus = () => new Promise(() => undefined);
    const registry = new DriverRegistry({ pluginDirs: [], callTimeoutMs: 50 });
    registry.register("deaf", deaf);
    const err = await rejection((await registry.driverFor("deaf")).getMachineStatus(req("deaf")));
    expect(err.code).toBe("DeadlineExceeded");
  });

  it("answers Canceled when the caller's signal aborts first", async () => {
    const { fake, driver } = setup();
    fake.fail("createMachine", "hang");
    const stop = new AbortController();
    const call = (await driver()).createMachine(req("stopped", stop.signal));
    stop.abort();
    expect((await rejection(call)).code).toBe("Canceled");
  });

  it("counts calls and failures under MCM's driver metrics", async () => {
    const { fake, metrics, driver } = setup();
    const d = await driver();
    await d.createMachine(req("a"));
    fake.fail("createMachine", "ResourceExhausted", { times: 1 });
    await rejection(d.createMachine(req("b")));
    const failed = "mcm_cloud_api_driver_requests_failed_total";
    const labels = { provider: "fake", operation: "CreateMachine" };
    expect(await value(metrics, failed, { ...labels, error_code: "ResourceExhausted" })).toBe(1);
    const text = await metrics.metrics();
    expect(text).toMatch(
      /mcm_cloud_api_driver_request_duration_seconds_count\{provider="fake",operation="CreateMachine"\} 2/,
    );
  });

  it("records a plugin's cloud API requests by provider and service", async () => {
    const metrics = new Registry();
    const registry = new DriverRegistry({ pluginDirs: [], metrics });
    const api = registry.contextFor("aws").metrics;
    await api.request("ec2", () => Promise.resolve(1));
    await api.request("ec2", () => Promise.reject(new Error("throttled"))).catch(() => undefined);
    const labels = { provider: "aws", service: "ec2" };
    expect(await value(metrics, "mcm_cloud_api_requests_total", labels)).toBe(2);
    expect(await value(metrics, "mcm_cloud_api_requests_failed_total", labels)).toBe(1);
    expect(await metrics.metrics()).toMatch(
      /mcm_cloud_api_api_request_duration_seconds_count\{provider="aws",service="ec2"\} 2/,
    );
  });

  it("keeps Secret values out of error messages and logs", async () => {
    const { fake, lines, driver } = setup();
    fake.fail("createMachine", "Unauthenticated", { message: `key ${SECRET_VALUE} was refused` });
    const err = await rejection((await driver()).createMachine(req("leaky")));
    expect(err.code).toBe("Unauthenticated");
    expect(err.message).toBe("key [redacted] was refused");
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).not.toContain(SECRET_VALUE);
    expect(lines.join("\n")).toContain("shoot--a--b/leaky");
  });

  it("wraps every registered driver, so the same deadline holds for plugins and overrides", async () => {
    const { fake, driver } = setup();
    const d = await driver();
    expect(d).not.toBe(fake);
    const vm = await d.createMachine(req("x"));
    expect(vm.nodeName).toBe("x");
    expect(fake.callsOf("createMachine")).toHaveLength(1);
  });
});

describe("retry classes", () => {
  it.each<[ErrorCode, FlowKind, RetryClass]>([
    ["Unavailable", "create", "short"],
    ["DeadlineExceeded", "create", "short"],
    ["Unknown", "delete", "short"],
    ["Aborted", "delete", "short"],
    ["ResourceExhausted", "create", "resourceExhausted"],
    ["InvalidArgument", "create", "medium"],
    ["Internal", "create", "medium"],
    ["Internal", "delete", "long"],
    ["ResourceExhausted", "delete", "long"],
  ])("%s in the %s flow retries %s", (code, flow, expected) => {
    expect(retryClassOf(code, flow)).toBe(expected);
  });
});
