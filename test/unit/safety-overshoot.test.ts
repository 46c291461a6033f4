import { afterEach, describe, expect, it } from "vitest";
import { Annotations, Labels } from "../../src/api/constants.ts";
import { MachineResources } from "../../src/api/resources.ts";
import { DEFAULT_SAFETY_CONFIG } from "../../src/controllers/safety/config.ts";
import { freezeLimits, verdictOf } from "../../src/controllers/safety/overshoot.ts";
import type { KubeObject } from "../../src/runtime/client/client.ts";
import { Resources } from "../../src/runtime/client/resources.ts";
import {
  machine,
  machineDeployment,
  type MachineObject,
  machineSet,
  type MachineSetObject,
  NAMESPACE,
  T0,
} from "../builders/index.ts";
import { World } from "../fakes/world.ts";

let world: World | undefined;
afterEach(async () => {
  await world?.stop();
  world = undefined;
});

const PERIOD = 60_000;
const ownedBy = (kind: string, name: string, uid: string) => ({
  ownerReferences: [{ apiVersion: "machine.sapcloud.io/v1alpha1", kind, name, uid, controller: true }],
});
const ofSet = (name: string): MachineObject =>
  machine(name, { with: { metadata: ownedBy("MachineSet", "set", "set-uid") } });

/** `n` machines owned by the set `set` (uid `set-uid`). */
function machinesOf(n: number, o: { deleting?: number } = {}): MachineObject[] {
  return Array.from({ length: n }, (_, i) =>
    machine(`m${i}`, {
      with: { metadata: ownedBy("MachineSet", "set", "set-uid") },
      ...(i < (o.deleting ?? 0) ? { deletionTimestamp: T0 } : {}),
    }),
  );
}

const frozenCondition = (s: MachineSetObject | undefined) =>
  s?.status?.machineSetCondition?.find((c) => c.type === "Frozen");
const freezeLabel = (o: { metadata?: { labels?: Record<string, string> } } | undefined) =>
  o?.metadata?.labels?.[Labels.freeze];
const deploymentFrozen = (w: World) =>
  w.deployment("d")?.status?.conditions?.find((c) => c.type === "Frozen");
const eventsOf = (w: World, reason: string) =>
  w.control
    .all<KubeObject & { reason?: string; note?: string }>(Resources.events, NAMESPACE)
    .filter((e) => e.reason === reason);

describe("overshooting safety", () => {
  it.each([
    // A standalone set: twice its replicas and --safety-up.
    [{ replicas: 3 }, undefined, { high: 8, low: 7 }],
    // A deployment's set: the deployment's replicas, its maxSurge and --safety-up.
    [{ replicas: 1 }, { replicas: 4, maxSurge: "50%" }, { high: 8, low: 7 }],
    [{ replicas: 4 }, { replicas: 4, maxSurge: 0, maxUnavailable: 1 }, { high: 6, low: 5 }],
  ] as const)("limits of set %o with deployment %o are %o", (set, deployment, limits) => {
    const s = machineSet("set", set);
    const d = deployment ? machineDeployment("d", deployment) : undefined;
    expect(freezeLimits(s, d, DEFAULT_SAFETY_CONFIG)).toEqual(limits);
  });

  it.each([
    [false, 8, false, "freeze"],
    [false, 7, false, undefined],
    [false, 9, true, undefined],
    [true, 8, false, undefined],
    [true, 7, false, "unfreeze"],
    [true, 9, true, "unfreeze"],
  ] as const)("frozen %s with %d machines (unfreeze asked: %s) → %s", (frozen, count, asked, verdict) => {
    expect(verdictOf(frozen, count, { high: 8, low: 7 }, asked)).toBe(verdict);
  });

  it("freezes a standalone set at its limit, records it once, and unfreezes it back at the low limit", async () => {
    world = new World({ controllers: ["overshoot"], safety: { overshootPeriodMs: PERIOD } });
    // replicas 1: high 4, low 3.
    world.seed.sets(machineSet("set", { replicas: 1, with: { metadata: { uid: "set-uid" } } }));
    world.seed.machines(...machinesOf(4));
    await world.start();
    const set = world.sets()[0];
    expect(freezeLabel(set)).toBe("True");
    expect(frozenCondition(set)).toMatchObject({ status: "True", reason: "OverShootingReplicaCount" });
    expect(frozenCondition(set)?.message).toContain("is 4 >= 4");
    await world.tick(PERIOD);
    expect(eventsOf(world, "FrozeMachineSet")).toHaveLength(1);

    await world.control.delete(MachineResources.machines, NAMESPACE, "m3");
    await world.idle();
    const after = world.sets()[0];
    expect(freezeLabel(after)).toBeUndefined();
    expect(frozenCondition(after)).toBeUndefined();
    expect(eventsOf(world, "UnfrozeMachineSet")).toHaveLength(1);
  });

  it("does not count machines being deleted, so a large scale-down never freezes", async () => {
    world = new World({ controllers: ["overshoot"] });
    world.seed.sets(machineSet("set", { replicas: 1, with: { metadata: { uid: "set-uid" } } }));
    world.seed.machines(...machinesOf(10, { deleting: 9 }));
    await world.start();
    expect(freezeLabel(world.sets()[0])).toBeUndefined();
    expect(eventsOf(world, "FrozeMachineSet")).toEqual([]);
  });

  it("freezes the deployment with its set, and the deployment's unfreeze annotation unfreezes both", async () => {
    world = new World({ controllers: ["overshoot"], safety: { overshootPeriodMs: PERIOD } });
    world.seed.deployments(
      machineDeployment("d", { replicas: 2, maxSurge: 1, with: { metadata: { uid: "d-uid" } } }),
    );
    world.seed.sets(
      machineSet("set", {
        replicas: 2,
        with: { metadata: { uid: "set-uid", ...ownedBy("MachineDeployment", "d", "d-uid") } },
      }),
    );
    // high = 2 + 1 + 2 = 5.
    world.seed.machines(...machinesOf(5));
    await world.start();
    const d = world.deployment("d");
    expect(freezeLabel(world.sets()[0])).toBe("True");
    expect(freezeLabel(d)).toBe("True");
    expect(deploymentFrozen(world)).toMatchObject({
      status: "True",
      reason: "OverShootingReplicaCount",
    });

    // Back to 3 machines (low is 4): both unfreeze; MachineDeploymentStateSync keeps them in step.
    await world.control.delete(MachineResources.machines, NAMESPACE, "m0");
    await world.control.delete(MachineResources.machines, NAMESPACE, "m1");
    await world.idle();
    expect(freezeLabel(world.sets()[0])).toBeUndefined();
    expect(freezeLabel(world.deployment("d"))).toBeUndefined();
    expect(deploymentFrozen(world)).toBeUndefined();

    // Over the limit again, then unfrozen by hand on the deployment: the annotation is acted on and dropped.
    await world.control.create(MachineResources.machines, ofSet("m5"));
    await world.control.create(MachineResources.machines, ofSet("m6"));
    await world.idle();
    expect(freezeLabel(world.deployment("d"))).toBe("True");
    await world.control.patch(MachineResources.machineDeployments, NAMESPACE, "d", {
      metadata: { annotations: { [Annotations.unfreeze]: "True" } },
    });
    await world.idle();
    const unfrozen = eventsOf(world, "UnfrozeMachineSet").map((e) => e.note);
    expect(unfrozen).toContain("MachineSet unfrozen: UnfreezeAnnotation");
    expect(world.deployment("d")?.metadata?.annotations?.[Annotations.unfreeze]).toBeUndefined();
  });
});
