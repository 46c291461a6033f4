import { describe, expect, it } from "vitest";
import { SecretKeys } from "../../api/constants.ts";
import type { Machine } from "../../api/v1alpha1/machine.ts";
import type { Driver } from "../../driver/driver.ts";
import { MachineError } from "../../driver/errors.ts";
import { FakeClock } from "../../runtime/clock.ts";
import type { KubeClient } from "../../runtime/client/client.ts";
import { KubeApiError } from "../../runtime/client/raw.ts";
import type { EventRecorder } from "../../runtime/events/recorder.ts";
import { defaultMachineControllerConfig } from "./config.ts";
import type { MachineWork } from "./context.ts";
import { createFlow } from "./create.ts";
import type { FlowDeps } from "./deps.ts";

const machine: Machine = {
  metadata: { name: "m1", namespace: "ns", creationTimestamp: "2026-01-01T00:00:00Z" },
  spec: { class: { kind: "MachineClass", name: "c" } },
};

function work(driver: Partial<Driver>): MachineWork {
  return {
    machine,
    machineClass: { metadata: { name: "c" }, provider: "fake" } as MachineWork["machineClass"],
    secret: { [SecretKeys.userData]: Buffer.from("#cloud-config\n") },
    driver: driver as Driver,
    signal: new AbortController().signal,
  };
}

/** A target cluster whose every call fails as the given apiserver error. */
const failingTarget = (code: number): KubeClient =>
  new Proxy(
    {},
    {
      get: () => () => Promise.reject(new KubeApiError(code, { message: "etcdserver: request timed out" })),
    },
  ) as KubeClient;

const deps = (target: KubeClient | undefined): FlowDeps => ({
  client: {} as KubeClient,
  target,
  nodes: undefined,
  events: { record: () => Promise.resolve() } as unknown as EventRecorder,
  config: defaultMachineControllerConfig("ns"),
  clock: new FakeClock(Date.parse("2026-01-01T00:01:00Z")),
});

describe("createFlow", () => {
  it("throws an apiserver error for the runtime's backoff instead of failing the create", async () => {
    const notCalled = (): Promise<never> => Promise.reject(new Error("driver must not be called"));
    const driver = { getMachineStatus: notCalled, createMachine: notCalled };
    await expect(createFlow(work(driver), deps(failingTarget(500)))).rejects.toBeInstanceOf(KubeApiError);
  });

  it("records a driver error as CrashLoopBackOff with its code, and retries by that code", async () => {
    const driver = {
      getMachineStatus: () => Promise.reject(new MachineError("NotFound", "no VM")),
      createMachine: () => Promise.reject(new Error("socket hang up")),
    };
    const out = await createFlow(work(driver), deps(undefined));
    expect(out.draft.status?.currentStatus?.phase).toBe("CrashLoopBackOff");
    expect(out.draft.status?.lastOperation).toMatchObject({ state: "Failed", errorCode: "Unknown" });
    expect(out.requeueAfter).toBe(defaultMachineControllerConfig("ns").shortRetryMs);
  });

  it("puts the VM, node label and phase in the draft; nothing is written by the flow", async () => {
    const driver = {
      getMachineStatus: () => Promise.reject(new MachineError("NotFound", "no VM")),
      createMachine: () => Promise.resolve({ providerID: "fake:///vm-1", nodeName: "m1" }),
      initializeMachine: () => Promise.reject(new MachineError("Unimplemented", "")),
    };
    const out = await createFlow(work(driver), deps(undefined));
    expect(out.draft.spec.providerID).toBe("fake:///vm-1");
    expect(out.draft.metadata?.labels).toEqual({ node: "m1" });
    expect(out.draft.status?.currentStatus?.phase).toBe("Available");
  });
});
