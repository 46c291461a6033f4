import { afterEach, describe, expect, it } from "vitest";
import { Finalizers, Labels } from "../../src/api/constants.ts";
import { Resources } from "../../src/runtime/client/resources.ts";
import { machine, node } from "../builders/index.ts";
import { World } from "../fakes/world.ts";

let world: World;
afterEach(() => world.stop());

async function started(...names: string[]): Promise<World> {
  world = new World({ controllers: ["machine"], config: { resourceExhaustedRetryMs: 60_000 } });
  world.seed.machines(...names.map((n) => machine(n, { finalizer: false })));
  await world.start();
  return world;
}

describe("machine create", () => {
  it("creates a VM, records providerID and node label, and moves the machine to Pending", async () => {
    const w = await started("m1");
    expect(w.machine("m1")).toMatchObject({
      metadata: { finalizers: [Finalizers.machineControllerManager], labels: { [Labels.node]: "m1" } },
      spec: { providerID: "fake:///m1" },
      status: {
        currentStatus: { phase: "Pending", timeoutActive: true },
        lastOperation: { type: "Create", state: "Processing" },
        machineConditions: [{ type: "VMCreated", status: "True" }],
      },
    });
    expect(w.driver.callsOf("createMachine").length).toBe(1);
    // The user data carries a bootstrap token that exists in the target cluster.
    const tokens = w.target?.all(Resources.secrets, "kube-system") ?? [];
    expect(tokens).toHaveLength(1);
    expect(w.machineWrites("m1")).toEqual(["patch", "patch", "patch/status"]);
  });

  it("adopts the VM the driver already has instead of creating another", async () => {
    world = new World({ controllers: ["machine"] });
    const adopted = world.driver.addVm("m1");
    world.seed.machines(machine("m1"));
    await world.start();
    expect(world.driver.callsOf("createMachine").length).toBe(0);
    expect(world.machine("m1")?.spec.providerID).toBe(adopted.providerID);
    expect(world.machine("m1")?.status?.currentStatus?.phase).toBe("Pending");
  });

  it("keeps a known providerID when the driver answers NotFound, and creates when there is none", async () => {
    world = new World({ controllers: ["machine"] });
    world.seed.machines(machine("known", { providerID: "fake:///known", node: "known" }), machine("fresh"));
    await world.start();
    expect(world.driver.callsOf("createMachine", "known").length).toBe(0);
    expect(world.machine("known")?.status?.currentStatus?.phase).toBe("Pending");
    expect(world.driver.callsOf("createMachine", "fresh").length).toBe(1);
  });

  it("creates the VM when the driver reports it Uninitialized", async () => {
    world = new World({ controllers: ["machine"] });
    world.driver.fail("getMachineStatus", "Uninitialized", { times: 1 });
    world.seed.machines(machine("m1"));
    await world.start();
    expect(world.driver.callsOf("createMachine").length).toBe(1);
    expect(world.machine("m1")?.status?.currentStatus?.phase).toBe("Pending");
  });

  it("deletes a VM that reports another machine's Node (a recycled name) and fails the machine", async () => {
    world = new World({ controllers: ["machine"] });
    world.driver.nextNodeName = "old-node";
    world.seed.nodes(node("old-node", { providerID: "fake:///old-vm" }));
    world.seed.machines(machine("m1"));
    await world.start();
    expect(world.driver.calls.slice(0, 3).map((c) => c.method)).toEqual([
      "getMachineStatus",
      "createMachine",
      "deleteMachine",
    ]);
    const failed = world.control.writes.find(
      (w) => w.name === "m1" && w.subresource === "status" && JSON.stringify(w.body).includes('"Failed"'),
    );
    expect(JSON.stringify(failed?.body)).toContain("VM using old node obj old-node");
    // Failed is final: no second VM for a machine its set is about to replace.
    expect(world.driver.callsOf("createMachine").length).toBe(1);
    expect(world.machine("m1")?.spec.providerID).toBeUndefined();
    expect(world.machine("m1")?.status?.currentStatus?.phase).toBe("Failed");
  });

  it("adopts a VM whose Node already joined under another name, as a cloud's DNS name does", async () => {
    world = new World({ controllers: ["machine"] });
    const vm = world.driver.addVm("m1", { nodeName: "ip-10-0-0-7.ec2.internal" });
    world.seed.nodes(node("ip-10-0-0-7.ec2.internal", { providerID: vm.providerID }));
    world.seed.machines(machine("m1"));
    await world.start();
    expect(world.driver.callsOf("deleteMachine")).toEqual([]);
    expect(world.driver.callsOf("createMachine")).toEqual([]);
    expect(world.machine("m1")?.spec.providerID).toBe(vm.providerID);
    expect(world.machine("m1")?.status?.currentStatus?.phase).not.toBe("Failed");
  });

  it("backs off on ResourceExhausted for --resource-exhausted-retry", async () => {
    world = new World({ controllers: ["machine"], config: { resourceExhaustedRetryMs: 60_000 } });
    world.driver.fail("createMachine", "ResourceExhausted", { message: "no capacity in zone a" });
    world.seed.machines(machine("m1"));
    await world.start();
    // The first failure's status write wakes the machine once more; the unchanged second one does not.
    expect(world.driver.callsOf("createMachine").length).toBe(2);
    const m = world.machine("m1");
    expect(m?.status?.currentStatus?.phase).toBe("CrashLoopBackOff");
    expect(m?.status?.lastOperation).toMatchObject({ state: "Failed", errorCode: "ResourceExhausted" });
    expect(m?.status?.machineConditions?.find((c) => c.type === "VMCreated")).toMatchObject({
      status: "False",
      reason: "ResourceExhausted",
    });
    await world.tick(59_999);
    expect(world.driver.callsOf("createMachine").length).toBe(2);
    await world.tick(1);
    expect(world.driver.callsOf("createMachine").length).toBeGreaterThan(2);
  });

  it("fails the machine once the creation timeout has passed", async () => {
    world = new World({
      controllers: ["machine"],
      config: { creationTimeoutMs: 60_000, mediumRetryMs: 30_000 },
    });
    world.driver.fail("createMachine", "Internal", { message: "cloud is down" });
    world.seed.machines(machine("m1"));
    await world.start();
    expect(world.machine("m1")?.status?.currentStatus?.phase).toBe("CrashLoopBackOff");
    // Attempts every --medium-retry (30 s): at 60 s the timeout has not passed yet, at 90 s it has.
    await world.tick(89_000);
    expect(world.machine("m1")?.status?.currentStatus?.phase).toBe("CrashLoopBackOff");
    await world.tick(2_000);
    expect(world.machine("m1")?.status?.currentStatus?.phase).toBe("Failed");
  });
});
