import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CloudClient } from "../../src/sim/cloud/client.ts";
import { NodeSimulator } from "../../src/sim/node/nodesim.ts";
import { substitutePlaceholders } from "../../src/bootstrap/placeholders.ts";
import {
  deleteBootstrapToken,
  ensureBootstrapToken,
  tokenIdOf,
} from "../../src/controllers/machine/bootstrap-token.ts";
import { kubeletStateIn } from "../../src/sim/node/kubelet-state.ts";
import { KubeClient, type KubeObject } from "../../src/runtime/client/client.ts";
import { Resources } from "../../src/runtime/client/resources.ts";
import { adminKubeConfig, eventually, failureStatus, tokenKubeConfig, uniqueName } from "../env/index.ts";
import { nodeApi } from "../../src/sim/node/node-api.ts";
import { startVirtualCloud, type VirtualCloudProcess } from "../../src/sim/cloud/process.ts";
import { validateUserData } from "../env/validators.ts";
import { workerUserData } from "../env/worker-pool.ts";

/**
 * The node simulator joins like a kubelet: TLS bootstrap with the bootstrap token found in the
 * VM's user data (cloud-config, Ignition or multipart), against the real apiserver and
 * kube-controller-manager (CSR approval and signing), then registration as system:node:<name>.
 */

type Node = KubeObject & {
  metadata?: { labels?: Record<string, string> };
  spec?: { taints?: { key: string; value?: string; effect: string }[] };
};
type Csr = KubeObject & {
  spec?: { username?: string; signerName?: string; groups?: string[] };
  status?: { certificate?: string; conditions?: { type: string; reason?: string }[] };
};
const CSRS = {
  group: "certificates.k8s.io",
  version: "v1",
  plural: "certificatesigningrequests",
  kind: "CertificateSigningRequest",
  namespaced: false,
} as const;

let dir: string;
let cloudProcess: VirtualCloudProcess;
let cloud: CloudClient;
let client: KubeClient;
let sim: NodeSimulator;
const errors: string[] = [];

const POOL = {
  kubelet: {
    labels: { "example.com/team": "payments" },
    taints: [{ key: "example.com/dedicated", value: "payments", effect: "NoSchedule" }],
  },
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "sprout-join-"));
  cloudProcess = await startVirtualCloud(dir);
  cloud = new CloudClient(cloudProcess.endpoint);
  client = new KubeClient(await adminKubeConfig(), { qps: 200, burst: 200 });
  sim = new NodeSimulator({
    cloud,
    nodes: nodeApi(client),
    bootDelayMs: 200,
    joinRetryMs: 500,
    onError: (err) => errors.push(String(err)),
  });
  sim.start();
});

afterAll(async () => {
  for (const vm of await cloud.findVms({})) await cloud.deleteVm(vm.id);
  await eventually(() => expect(sim.nodeNames).toEqual([]), { timeoutMs: 20_000 });
  await sim.stop();
  await cloudProcess.stop();
  await rm(dir, { recursive: true, force: true });
});

/** Starts a VM with user data as the machine controller would hand it over. */
async function boot(name: string, userData: string): Promise<void> {
  await cloud.createVm({
    name,
    zone: "zone-a",
    machineType: "small",
    userData: Buffer.from(userData).toString("base64"),
  });
}

const nodeGone = async (name: string): Promise<number | undefined> =>
  failureStatus(client.get(Resources.nodes, undefined, name));

describe("a VM joins with the bootstrap token in its user data", () => {
  it.each(["cloud-config", "ignition", "multipart"] as const)(
    "%s: TLS bootstrap as system:bootstrap:<id>, then the Node registers with the pool's labels and taints",
    async (format) => {
      const name = uniqueName(`join-${format}`);
      const token = await ensureBootstrapToken(client, { name, uid: name }, 10 * 60_000, "", Date.now());
      const userData = substitutePlaceholders(await workerUserData(format, POOL), token, name);
      await validateUserData(userData, format);
      await boot(name, userData);

      const node = await eventually(() => client.get<Node>(Resources.nodes, undefined, name), {
        timeoutMs: 30_000,
      });
      expect(node.metadata?.labels).toMatchObject({
        "worker.gardener.cloud/pool": "workers",
        "example.com/team": "payments",
        "kubernetes.io/hostname": name,
      });
      expect(node.spec?.taints).toContainEqual({
        key: "example.com/dedicated",
        value: "payments",
        effect: "NoSchedule",
      });
      const managers = (node.metadata?.managedFields as { manager?: string }[] | undefined)?.map(
        (f) => f.manager,
      );
      expect(managers).toContain("kubelet");
      const csrs = (await client.list<Csr>(CSRS)).items.filter(
        (c) => c.spec?.username === `system:bootstrap:${tokenIdOf(token)}`,
      );
      expect(csrs).toHaveLength(1);
      expect(csrs[0]?.spec?.signerName).toBe("kubernetes.io/kube-apiserver-client-kubelet");
      expect(csrs[0]?.spec?.groups).toContain("system:bootstrappers");
      expect(csrs[0]?.status?.conditions?.find((c) => c.type === "Approved")?.reason).toBe("AutoApproved");
      expect(csrs[0]?.status?.certificate).toBeTruthy();
      expect(sim.bootLog(name).join("\n")).toContain(`client certificate for system:node:${name}`);
      expect(sim.bootLog(name).join("\n")).not.toContain(token.split(".")[1]);
    },
  );
});

describe("a VM whose token the apiserver refuses never becomes a Node", () => {
  const failsToJoin = async (name: string, reason: RegExp): Promise<void> => {
    await eventually(() => expect(sim.bootLog(name).join("\n")).toMatch(reason), { timeoutMs: 20_000 });
    // It keeps trying, as a kubelet restarting does, and keeps failing.
    await eventually(
      () => expect(sim.bootLog(name).filter((l) => reason.test(l)).length).toBeGreaterThan(1),
      {
        timeoutMs: 20_000,
      },
    );
    expect(await nodeGone(name)).toBe(404);
    expect(errors.some((e) => e.includes(`node ${name} cannot join`))).toBe(true);
  };

  it("an expired token: 401, no Node", async () => {
    const name = uniqueName("expired");
    const token = await ensureBootstrapToken(client, { name, uid: name }, -60_000, "", Date.now());
    await boot(name, substitutePlaceholders(await workerUserData("ignition"), token, name));
    await failsToJoin(
      name,
      /TLS bootstrap with the token from \/var\/lib\/kubelet\/bootstrap-kubeconfig failed: Unauthorized/,
    );
  });

  it("a token whose Secret is gone (deleted, or cleaned up): 401, no Node", async () => {
    const name = uniqueName("deleted");
    const token = await ensureBootstrapToken(client, { name, uid: name }, 10 * 60_000, "", Date.now());
    await client.delete(Resources.secrets, "kube-system", `bootstrap-token-${tokenIdOf(token)}`);
    await boot(name, substitutePlaceholders(await workerUserData("multipart"), token, name));
    await failsToJoin(name, /failed: Unauthorized/);
  });

  it("user data whose placeholder was never filled: no token, no Node", async () => {
    const name = uniqueName("notoken");
    await boot(name, await workerUserData("cloud-config"));
    await failsToJoin(name, /no bootstrap token in \/var\/lib\/kubelet\/bootstrap-kubeconfig/);
  });
});

describe("a simulator that requires a bootstrap token", () => {
  it("refuses a VM without one, and still joins one with a valid token", async () => {
    const strictCloud = await startVirtualCloud(await mkdtemp(join(dir, "strict-")));
    const strictVms = new CloudClient(strictCloud.endpoint);
    const strict = new NodeSimulator({
      cloud: strictVms,
      nodes: nodeApi(client),
      bootDelayMs: 100,
      joinRetryMs: 500,
      allowJoinWithoutToken: false,
    });
    strict.start();
    try {
      const bare = uniqueName("bare");
      await strictVms.createVm({ name: bare, zone: "zone-a", machineType: "small" });
      const joined = uniqueName("joined");
      const token = await ensureBootstrapToken(
        client,
        { name: joined, uid: joined },
        10 * 60_000,
        "",
        Date.now(),
      );
      const userData = substitutePlaceholders(await workerUserData("cloud-config"), token, joined);
      await strictVms.createVm({
        name: joined,
        zone: "zone-a",
        machineType: "small",
        userData: Buffer.from(userData).toString("base64"),
      });
      await eventually(() => client.get(Resources.nodes, undefined, joined), { timeoutMs: 30_000 });
      await eventually(() =>
        expect(strict.bootLog(bare).join("\n")).toContain("the user data carries no bootstrap token"),
      );
      expect(await nodeGone(bare)).toBe(404);
      await strictVms.deleteVm((await strictVms.findVms({ name: joined }))[0]?.id ?? "");
      await eventually(() => expect(strict.nodeNames).toEqual([]));
    } finally {
      await strict.stop();
      await strictCloud.stop();
    }
  });
});

describe("a restarted kubelet", () => {
  it("keeps its client certificate: no second bootstrap, although the token is gone by then", async () => {
    const vmCloud = await startVirtualCloud(await mkdtemp(join(dir, "restart-")));
    const vms = new CloudClient(vmCloud.endpoint);
    const stateDir = join(dir, "kubelet-state");
    const seen: string[] = [];
    const simulator = (withState: boolean) => {
      const s = new NodeSimulator({
        cloud: vms,
        nodes: nodeApi(client),
        bootDelayMs: 100,
        joinRetryMs: 500,
        ...(withState ? { kubeletState: kubeletStateIn(stateDir) } : {}),
        onError: (err) => seen.push(String(err)),
      });
      s.start();
      return s;
    };
    const name = uniqueName("restart");
    const token = await ensureBootstrapToken(client, { name, uid: name }, 10 * 60_000, "", Date.now());
    await vms.createVm({
      name,
      zone: "zone-a",
      machineType: "small",
      userData: Buffer.from(
        substitutePlaceholders(await workerUserData("cloud-config"), token, name),
      ).toString("base64"),
    });
    const first = simulator(true);
    await eventually(() => expect(first.nodeNames).toEqual([name]), { timeoutMs: 30_000 });
    await first.stop();
    // The machine controller deletes the token once the node joined.
    await deleteBootstrapToken(client, { name, uid: name });
    // The apiserver caches a token it accepted for a few seconds: wait until it refuses it.
    const asToken = new KubeClient(tokenKubeConfig(await adminKubeConfig(), token));
    await eventually(async () => expect(await failureStatus(asToken.list(CSRS))).toBe(401), {
      timeoutMs: 30_000,
    });
    const csrsOf = async () =>
      (await client.list<Csr>(CSRS)).items.filter(
        (c) => c.spec?.username === `system:bootstrap:${tokenIdOf(token)}`,
      );
    expect(await csrsOf()).toHaveLength(1);

    // Without its certificate the node could not come back: the token is refused.
    const amnesic = simulator(false);
    await eventually(
      () => expect(amnesic.bootLog(name).join("\n")).toMatch(/cannot join|failed: .*Unauthorized/),
      {
        timeoutMs: 20_000,
      },
    );
    await amnesic.stop();

    const restarted = simulator(true);
    try {
      await eventually(() => expect(restarted.nodeNames).toEqual([name]), { timeoutMs: 20_000 });
      expect(restarted.bootLog(name).join("\n")).toContain("found; no bootstrap needed");
      expect(await csrsOf()).toHaveLength(1);
      // The VM's end takes its certificate with it.
      await vms.deleteVm((await vms.findVms({ name }))[0]?.id ?? "");
      await eventually(() => expect(restarted.nodeNames).toEqual([]));
      await eventually(async () => expect(await readdir(stateDir)).toEqual([]));
    } finally {
      await restarted.stop();
      await vmCloud.stop();
    }
  });
});
