import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Annotations } from "../../src/api/constants.ts";
import { MachineResources } from "../../src/api/resources.ts";
import type { Machine } from "../../src/api/v1alpha1/machine.ts";
import { readUserData } from "../../src/bootstrap/read.ts";
import type { UserDataFormatName } from "../../src/bootstrap/render.ts";
import { type KubeClient, type KubeObject } from "../../src/runtime/client/client.ts";
import { Resources } from "../../src/runtime/client/resources.ts";
import { eventually, failureStatus, testNamespace, uniqueName } from "../env/index.ts";
import { createVirtualClass, type MachineRig, reconciledAgain, startMachineRig } from "../env/machines.ts";
import { validateUserData } from "../env/validators.ts";
import { workerUserData } from "../env/worker-pool.ts";

/**
 * Machines get the user data sprout renders for a worker pool, in every format, through MCM's
 * contract (the MachineClass Secret's userData, <<BOOTSTRAP_TOKEN>> filled per machine), and their
 * VMs join as kubelets do; a token refused at boot leaves the machine without a Node.
 */

type Node = KubeObject & { metadata?: { labels?: Record<string, string> } };
const POOL = { kubelet: { labels: { "example.com/team": "payments" } } };

let fast: MachineRig;
let slow: MachineRig;
let fastNs: string;
let slowNs: string;

/** A Secret holding the pool's user data in one format and a MachineClass named after the format. */
async function poolClass(client: KubeClient, ns: string, format: UserDataFormatName): Promise<void> {
  await client.create(Resources.secrets, {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: `pool-${format}`, namespace: ns },
    stringData: { userData: await workerUserData(format, POOL) },
  });
  await createVirtualClass(client, ns, format, { secretRef: `pool-${format}` });
}

async function newMachine(rig: MachineRig, ns: string, className: string, spec = {}): Promise<string> {
  const name = uniqueName("m");
  await rig.client.create(MachineResources.machines, {
    apiVersion: "machine.sapcloud.io/v1alpha1",
    kind: "Machine",
    metadata: { name, namespace: ns },
    spec: { class: { kind: "MachineClass", name: className }, ...spec },
  });
  return name;
}

const machine = (rig: MachineRig, ns: string, name: string): Promise<Machine> =>
  rig.client.get<Machine>(MachineResources.machines, ns, name);

beforeAll(async () => {
  fastNs = await testNamespace("boot");
  slowNs = await testNamespace("slowboot");
  fast = await startMachineRig(fastNs);
  // VMs that take 4 s to boot, so a token can be gone or expired by then.
  slow = await startMachineRig(
    slowNs,
    {},
    { sim: { bootDelayMs: 4000, joinRetryMs: 1000, onError: () => undefined } },
  );
  for (const format of ["cloud-config", "ignition", "multipart"] as const) {
    await poolClass(fast.client, fastNs, format);
  }
  await poolClass(slow.client, slowNs, "ignition");
}, 60_000);

afterAll(async () => {
  await fast.stop();
  await slow.stop();
});

describe("machines boot from the rendered worker pool", () => {
  it.each(["cloud-config", "ignition", "multipart"] as const)(
    "%s: the VM joins and the machine runs",
    async (format) => {
      const name = await newMachine(fast, fastNs, format);
      await eventually(
        async () => expect((await machine(fast, fastNs, name)).status?.currentStatus?.phase).toBe("Running"),
        {
          timeoutMs: 30_000,
        },
      );
      const node = await fast.client.get<Node>(Resources.nodes, undefined, name);
      expect(node.metadata?.labels).toMatchObject({
        "worker.gardener.cloud/pool": "workers",
        "example.com/team": "payments",
      });

      // What the VM got: the pool's user data with this machine's token, still valid for its OS.
      const [vm] = await fast.cloud.findVms({ name });
      const userData = Buffer.from(vm?.userData ?? "", "base64").toString();
      expect(userData).not.toContain("<<");
      expect(userData).not.toContain("%3C%3C");
      await validateUserData(userData, format);
      const kubeconfig = readUserData(userData)
        .files.get("/var/lib/kubelet/bootstrap-kubeconfig")
        ?.toString();
      const tokenId = (await machine(fast, fastNs, name)).metadata?.annotations?.[
        Annotations.bootstrapTokenId
      ];
      expect(tokenId).toMatch(/^[a-z0-9]{6}$/);
      expect(kubeconfig).toMatch(new RegExp(`token: "${tokenId}\\.[0-9a-z]{16}"`));
      expect(fast.sim.bootLog(name).join("\n")).toContain(`client certificate for system:node:${name}`);
      // Joined: the controller deleted the token, as MCM does.
      expect(
        await failureStatus(fast.client.get(Resources.secrets, "kube-system", `bootstrap-token-${tokenId}`)),
      ).toBe(404);

      await fast.client.delete(MachineResources.machines, fastNs, name);
      await eventually(async () => expect(await failureStatus(machine(fast, fastNs, name))).toBe(404), {
        timeoutMs: 30_000,
      });
    },
  );
});

describe("a machine whose token is refused at boot", () => {
  it("token deleted before the VM booted: no Node, the machine stays Pending, the VM's log says why", async () => {
    const name = await newMachine(slow, slowNs, "ignition");
    await eventually(
      async () => expect((await machine(slow, slowNs, name)).status?.currentStatus?.phase).toBe("Pending"),
      {
        timeoutMs: 20_000,
      },
    );
    const tokenId = await eventually(async () => {
      const id = (await machine(slow, slowNs, name)).metadata?.annotations?.[Annotations.bootstrapTokenId];
      expect(id).toBeDefined();
      return id ?? "";
    });
    await slow.client.delete(Resources.secrets, "kube-system", `bootstrap-token-${tokenId}`);
    // The VM keeps trying to join and keeps being refused; the controller keeps looking meanwhile.
    const refused = /TLS bootstrap .* failed: Unauthorized/;
    await eventually(
      () => expect(slow.sim.bootLog(name).filter((l) => refused.test(l)).length).toBeGreaterThan(1),
      { timeoutMs: 20_000 },
    );
    await reconciledAgain(slow, "machine");
    const m = await machine(slow, slowNs, name);
    expect(m.status?.currentStatus?.phase).toBe("Pending");
    expect(m.status?.lastOperation).toMatchObject({ type: "Create", state: "Processing" });
    expect(await failureStatus(slow.client.get(Resources.nodes, undefined, name))).toBe(404);
    await slow.client.delete(MachineResources.machines, slowNs, name);
    await eventually(async () => expect(await failureStatus(machine(slow, slowNs, name))).toBe(404), {
      timeoutMs: 30_000,
    });
  });

  it("token expired before the VM booted (creation timeout shorter than the boot): no Node, the machine fails to join", async () => {
    const name = await newMachine(slow, slowNs, "ignition", { creationTimeout: "3s" });
    await eventually(
      () => expect(slow.sim.bootLog(name).join("\n")).toMatch(/TLS bootstrap .* failed: Unauthorized/),
      {
        timeoutMs: 20_000,
      },
    );
    await eventually(async () => {
      const m = await machine(slow, slowNs, name);
      expect(m.status?.currentStatus?.phase).toBe("Failed");
      expect(m.status?.lastOperation?.description).toContain(`Machine ${name} failed to join the cluster in`);
    });
    expect(await failureStatus(slow.client.get(Resources.nodes, undefined, name))).toBe(404);
    await slow.client.delete(MachineResources.machines, slowNs, name);
    await eventually(async () => expect(await failureStatus(machine(slow, slowNs, name))).toBe(404), {
      timeoutMs: 30_000,
    });
  });
});
