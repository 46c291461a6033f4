import { afterEach, describe, expect, it } from "vitest";
import { MachineResources } from "../../src/api/resources.ts";
import { machineClass, machineDeployment, NAMESPACE } from "../builders/index.ts";
import { World } from "../fakes/world.ts";

let world: World;
afterEach(() => world.stop());

const MD = MachineResources.machineDeployments;

async function deployed(replicas: number): Promise<World> {
  world = new World({ target: false, controllers: ["machineset", "machinedeployment"] });
  world.seed.deployments(machineDeployment("workers", { replicas }));
  await world.start();
  return world;
}

describe("MachineDeployment reconcile", () => {
  it("makes one MachineSet it owns, whose machines carry the template's labels", async () => {
    const w = await deployed(3);
    const sets = w.sets();
    expect(sets).toHaveLength(1);
    expect(sets[0]?.spec?.replicas).toBe(3);
    expect(sets[0]?.metadata?.ownerReferences?.[0]).toMatchObject({
      kind: "MachineDeployment",
      name: "workers",
      controller: true,
    });
    expect(w.machines()).toHaveLength(3);
    expect(w.machines().every((m) => m.metadata?.labels?.name === "workers")).toBe(true);
    expect(w.deployment("workers")?.status).toMatchObject({ replicas: 3, updatedReplicas: 3 });
  });

  it("scales its set with spec.replicas", async () => {
    const w = await deployed(3);
    await w.control.patch(MD, NAMESPACE, "workers", { spec: { replicas: 5 } });
    await w.idle();
    expect(w.sets().map((s) => s.spec?.replicas)).toEqual([5]);
    expect(w.machines()).toHaveLength(5);
    await w.control.patch(MD, NAMESPACE, "workers", { spec: { replicas: 1 } });
    await w.idle();
    expect(w.sets().map((s) => s.spec?.replicas)).toEqual([1]);
  });

  it("rolls a template change out through a new set, surging by maxSurge while nothing is available", async () => {
    const w = await deployed(3);
    w.control.seed(MachineResources.machineClasses, machineClass("class-v2"));
    await w.control.patch(MD, NAMESPACE, "workers", {
      spec: { template: { spec: { class: { name: "class-v2" } } } },
    });
    await w.idle();
    const byClass = w.sets().map((s) => `${s.spec?.template?.spec?.class.name}=${s.spec?.replicas}`);
    expect(byClass.sort()).toEqual(["class-v2=1", "class=3"]);
    expect(w.machines()).toHaveLength(4);
  });
});
