import { afterEach, describe, expect, it } from "vitest";
import { SafetyMetricNames } from "../../src/controllers/safety/metrics.ts";
import { machine, node, T0 } from "../builders/index.ts";
import { World } from "../fakes/world.ts";

const MIN = 60_000;
const SAFETY = { statusCheckPeriodMs: MIN, statusCheckTimeoutMs: 30_000 };
let world: World | undefined;
afterEach(async () => {
  await world?.stop();
  world = undefined;
});

/** A machine Unknown since T0 whose Node is not ready; health timeout 10 min. */
async function unknownMachine(withCheck: boolean): Promise<World> {
  const w = new World({
    controllers: withCheck ? ["machine", "apiservers"] : ["machine"],
    safety: SAFETY,
  });
  w.seed.nodes(node("n1", { providerID: "fake:///m1", ready: "False" }));
  w.seed.machines(machine("m1", { providerID: "fake:///m1", node: "n1", phase: "Unknown" }));
  await w.start();
  return w;
}

const phase = (w: World): string | undefined => w.machine("m1")?.status?.currentStatus?.phase;
const frozen = async (w: World): Promise<number | undefined> =>
  (await w.manager.metrics.registry.getSingleMetric(SafetyMetricNames.frozen)?.get())?.values[0]?.value;

describe("apiserver-unreachable freeze", () => {
  it("without the check, a target outage longer than the health timeout fails the machine", async () => {
    world = await unknownMachine(false);
    if (world.target) world.target.down = true;
    await world.tick(11 * MIN);
    expect(phase(world)).toBe("Failed");
  });

  it("freezes when the target is unreachable past the timeout, fails nothing, and restarts the health timeout after", async () => {
    world = await unknownMachine(true);
    const target = world.target;
    if (!target) throw new Error("the world has a target");
    expect(await frozen(world)).toBe(0);
    target.down = true;
    // The probe fails at 1 min; frozen 30 s later.
    await world.tick(MIN + 36_000);
    expect(await frozen(world)).toBe(1);
    await world.tick(15 * MIN);
    expect(phase(world)).toBe("Unknown");
    expect(world.driver.callsOf("deleteMachine")).toEqual([]);

    target.down = false;
    await world.tick(6_000);
    expect(await frozen(world)).toBe(0);
    const reset = world.control.writes.find(
      (w) => w.name === "m1" && JSON.stringify(w.body).includes("reset due to APIServer being unreachable"),
    );
    expect(reset).toBeDefined();
    // Still not ready: Unknown again, with the full health timeout from now.
    const since = Date.parse(world.machine("m1")?.status?.currentStatus?.lastUpdateTime ?? "");
    expect(phase(world)).toBe("Unknown");
    expect(since).toBeGreaterThan(T0 + 16 * MIN);
    await world.tick(9 * MIN);
    expect(phase(world)).toBe("Unknown");
    await world.tick(2 * MIN);
    expect(phase(world)).toBe("Failed");
  });

  it("freezes also when the control apiserver is unreachable, and thaws when it answers", async () => {
    world = new World({ controllers: ["machine", "apiservers"], safety: SAFETY });
    await world.start();
    world.control.down = true;
    await world.tick(MIN + 36_000);
    expect(await frozen(world)).toBe(1);
    world.control.down = false;
    await world.tick(6_000);
    expect(await frozen(world)).toBe(0);
  });
});
