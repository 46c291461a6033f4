import { afterEach, describe, expect, it } from "vitest";
import { type MachinePhase, Taints } from "../../src/api/constants.ts";
import { machine, node, type NodeOptions } from "../builders/index.ts";
import { World } from "../fakes/world.ts";

const MIN = 60_000;
let world: World;
afterEach(() => world.stop());

type NodeState = "none" | "ready" | "not-ready" | "disk-pressure" | "critical-taint";

const nodeOf = (state: NodeState): NodeOptions | undefined =>
  ({
    none: undefined,
    ready: {},
    "not-ready": { ready: "False" as const },
    "disk-pressure": { conditions: { DiskPressure: "True" } },
    "critical-taint": {
      with: { spec: { taints: [{ key: Taints.criticalComponentsNotReady, effect: "NoSchedule" }] } },
    },
  })[state];

/**
 * The health transitions of a machine that has a VM (MCM's): from a phase, with its Node in a
 * state, after some time (creation timeout 20 min, health timeout 10 min, both counted from T0).
 */
const table: [MachinePhase, NodeState, number, MachinePhase][] = [
  ["Pending", "ready", 0, "Running"],
  ["Pending", "not-ready", 0, "Pending"],
  ["Pending", "critical-taint", 0, "Pending"],
  ["Pending", "none", 19 * MIN, "Pending"],
  ["Pending", "none", 21 * MIN, "Failed"],
  ["Running", "ready", 0, "Running"],
  ["Running", "not-ready", 0, "Unknown"],
  ["Running", "disk-pressure", 0, "Unknown"],
  ["Running", "none", 0, "Unknown"],
  ["Unknown", "ready", 0, "Running"],
  ["Unknown", "not-ready", 9 * MIN, "Unknown"],
  ["Unknown", "not-ready", 11 * MIN, "Failed"],
  ["Unknown", "none", 11 * MIN, "Failed"],
];

describe("machine health", () => {
  it.each(table)("%s with Node %s after %d ms → %s", async (from, state, after, to) => {
    world = new World({ controllers: ["machine"] });
    const opts = nodeOf(state);
    if (opts) world.seed.nodes(node("n1", { providerID: "fake:///m1", ...opts }));
    world.seed.machines(
      machine("m1", {
        providerID: "fake:///m1",
        node: "n1",
        phase: from,
        status: { lastOperation: { type: "Create", state: "Processing", description: "Creating machine" } },
      }),
    );
    await world.start();
    if (after > 0) await world.tick(after);
    expect(world.machine("m1")?.status?.currentStatus?.phase).toBe(to);
    expect(world.driver.callsOf("createMachine").length).toBe(0);
  });

  it("copies the Node's conditions to the machine", async () => {
    world = new World({ controllers: ["machine"] });
    world.seed.nodes(node("n1", { conditions: { DiskPressure: "False" } }));
    world.seed.machines(machine("m1", { providerID: "fake:///m1", node: "n1", phase: "Running" }));
    await world.start();
    expect(world.machine("m1")?.status?.conditions?.map((c) => `${c.type}=${c.status}`)).toEqual([
      "Ready=True",
      "DiskPressure=False",
    ]);
  });
});
