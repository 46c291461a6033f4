import { afterEach, describe, expect, it } from "vitest";
import { DELETION_MARKERS, DELETION_STEPS, type DeletionStep } from "../../src/api/constants.ts";
import { MachineResources } from "../../src/api/resources.ts";
import { machine, NAMESPACE, node, T0 } from "../builders/index.ts";
import { World } from "../fakes/world.ts";

let world: World;
afterEach(() => world.stop());

const before = (a: DeletionStep, b: DeletionStep): boolean =>
  DELETION_STEPS.indexOf(a) < DELETION_STEPS.indexOf(b);

/** A machine being deleted whose controller stopped at `step`: what exists still is what that step has not removed. */
function stoppedAt(step: DeletionStep | undefined, marker = false): World {
  const w = new World({ controllers: ["machine"] });
  const vmLeft = !step || !before("DeleteVM", step);
  const nodeLeft = !step || !before("DeleteNode", step);
  if (vmLeft) w.driver.addVm("m1");
  if (nodeLeft) w.seed.nodes(node("m1", { providerID: "fake:///m1" }));
  const status = step
    ? marker
      ? {
          lastOperation: {
            type: "Delete" as const,
            state: "Processing" as const,
            description: DELETION_MARKERS[step],
          },
        }
      : { deletionStep: step }
    : {};
  w.seed.machines(
    machine("m1", {
      providerID: "fake:///m1",
      node: "m1",
      phase: step ? "Terminating" : "Running",
      deletionTimestamp: T0,
      status,
    }),
  );
  return w;
}

describe("machine deletion", () => {
  it("waits for a create still in flight, then deletes the VM that create made", async () => {
    world = new World({ controllers: ["machine"] });
    const release = world.driver.hold("createMachine");
    world.seed.machines(machine("m1"));
    await world.start();
    expect(world.driver.callsOf("createMachine")).toHaveLength(1);
    await world.control.delete(MachineResources.machines, NAMESPACE, "m1");
    await world.idle();
    expect(world.machine("m1")?.metadata?.deletionTimestamp).toBeDefined();
    expect(world.driver.callsOf("deleteMachine")).toEqual([]);
    release();
    await world.idle();
    expect(world.driver.callsOf("deleteMachine")).toHaveLength(1);
    expect(world.driver.vms.size).toBe(0);
    expect(world.machine("m1")).toBeUndefined();
  });

  it("runs every step from a machine in use: VM, Node and the machine are gone", async () => {
    world = stoppedAt(undefined);
    await world.start();
    expect(world.machine("m1")).toBeUndefined();
    expect(world.driver.vms.size).toBe(0);
    expect(world.node("m1")).toBeUndefined();
    expect(world.driver.callsOf("deleteMachine").length).toBe(1);
  });

  it.each(DELETION_STEPS.map((s) => [s]))(
    "resumes at %s and does not repeat the steps before it",
    async (step) => {
      world = stoppedAt(step);
      await world.start();
      expect(world.machine("m1")).toBeUndefined();
      expect(world.driver.vms.size).toBe(0);
      expect(world.node("m1")).toBeUndefined();
      expect(world.driver.callsOf("getMachineStatus").length).toBe(0);
      expect(world.driver.callsOf("deleteMachine").length).toBe(before("DeleteVM", step) ? 0 : 1);
    },
  );

  it.each(DELETION_STEPS.map((s) => [s]))("resumes at %s from MCM's lastOperation text", async (step) => {
    world = stoppedAt(step, true);
    await world.start();
    expect(world.machine("m1")).toBeUndefined();
    expect(world.driver.callsOf("deleteMachine").length).toBe(before("DeleteVM", step) ? 0 : 1);
  });

  it("retries a failed VM deletion after a backoff and keeps the finalizer meanwhile", async () => {
    world = stoppedAt("DeleteVM");
    world.driver.fail("deleteMachine", "Unavailable", { message: "cloud API down" });
    await world.start();
    const attempts = world.driver.callsOf("deleteMachine").length;
    expect(world.machine("m1")?.status?.deletionStep).toBe("DeleteVM");
    expect(world.machine("m1")?.status?.lastOperation).toMatchObject({ type: "Delete", state: "Failed" });
    world.driver.clearFaults("deleteMachine");
    await world.tick(world.config.shortRetryMs - 1);
    expect(world.driver.callsOf("deleteMachine").length).toBe(attempts);
    await world.tick(1);
    expect(world.machine("m1")).toBeUndefined();
    expect(world.driver.callsOf("deleteMachine").length).toBe(attempts + 1);
  });
});
