import { createHash } from "node:crypto";
import type { NodeJoin } from "../../bootstrap/index.ts";
import { bootFromUserData } from "./boot.ts";
import type {
  NodeCondition,
  NodeCredentials,
  NodeSimulatorOptions,
  NodeStatus,
  SimNode,
  SimVm,
} from "./types.ts";
import { MACHINE_TYPES, providerIdOf } from "../cloud/types.ts";

export type * from "./types.ts";

interface Managed {
  vm: SimVm;
  /** How the node joins, from its user data; undefined when the user data says nothing about it. */
  join: NodeJoin | undefined;
  /** What the node would print on its console while booting (never a token). */
  log: string[];
  conditions: Map<string, NodeCondition>;
  registered: boolean;
  registerAt: number;
  lastStatus: number;
  lastLease: number;
}

const now = (): string => new Date().toISOString().replace(/\.\d+Z$/, "Z");

/**
 * A kwok-like node simulator for the virtual cloud (or any VM feed): every running VM registers as a Node (its
 * providerID, labels, capacity, Ready condition) after a boot delay, renews its node Lease and
 * refreshes its status like a kubelet, and disappears when the VM terminates. A VM whose user
 * data carries a bootstrap kubeconfig or token joins as a kubelet does: TLS bootstrap with the
 * token, then registration as system:node:<name> with the labels and taints its kubelet
 * configuration names; a refused or missing token leaves the VM without a Node, retrying, with
 * the reason in bootLog(). Faults on demand: setCondition (e.g. KernelDeadlock), makeNotReady, vanish.
 */
export class NodeSimulator {
  readonly #opts: NodeSimulatorOptions;
  readonly #managed = new Map<string, Managed>();
  readonly #vanished = new Set<string>();
  #abort: AbortController | undefined;
  #loops: Promise<void>[] = [];
  #version = 0;

  constructor(opts: NodeSimulatorOptions) {
    this.#opts = opts;
  }

  /** What a VM's node printed while booting and joining (the last 50 lines; never a token). */
  bootLog(name: string): readonly string[] {
    return this.#managed.get(name)?.log ?? [];
  }

  /** Names of the Nodes registered now. */
  get nodeNames(): string[] {
    return [...this.#managed.entries()].filter(([, m]) => m.registered).map(([name]) => name);
  }

  start(): void {
    if (this.#abort) return;
    this.#abort = new AbortController();
    const signal = this.#abort.signal;
    this.#loops = [this.#follow(signal), this.#tick(signal)];
  }

  async stop(): Promise<void> {
    this.#abort?.abort();
    await Promise.all(this.#loops);
    this.#abort = undefined;
  }

  /** Sets a node condition (e.g. KernelDeadlock True, Ready False) and reports it at once. */
  async setCondition(
    name: string,
    type: string,
    status: NodeCondition["status"],
    reason = "Simulated",
  ): Promise<void> {
    const m = this.#managed.get(name);
    if (!m) throw new Error(`node ${name} is not simulated`);
    const old = m.conditions.get(type);
    const t = now();
    m.conditions.set(type, {
      type,
      status,
      reason,
      message: `set by the node simulator`,
      lastHeartbeatTime: t,
      lastTransitionTime: old?.status === status ? old.lastTransitionTime : t,
    });
    if (m.registered) await this.#reportStatus(name, m);
  }

  makeNotReady(name: string): Promise<void> {
    return this.setCondition(name, "Ready", "False", "KubeletNotReady");
  }

  /** Deletes the Node and stops simulating it, as if the machine had silently died. */
  async vanish(name: string): Promise<void> {
    this.#vanished.add(name);
    this.#managed.delete(name);
    await this.#opts.nodes.deleteNode(name);
  }

  async #follow(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        const { version, vms } = await this.#opts.cloud.changes(this.#version, 10_000, signal);
        this.#version = version;
        for (const vm of vms) await this.#observe(vm);
      } catch (err) {
        if (signal.aborted) return;
        this.#opts.onError?.(err, "following the VM feed");
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  async #observe(vm: SimVm): Promise<void> {
    const name = vm.name;
    if (vm.state === "terminated") {
      const m = this.#managed.get(name);
      if (m?.vm.id === vm.id) {
        this.#managed.delete(name);
        await this.#opts.nodes.deleteNode(name);
      }
      await this.#opts.kubeletState?.forget(vm.id);
      return;
    }
    if (vm.state !== "running" || this.#vanished.has(name) || this.#managed.get(name)?.vm.id === vm.id)
      return;
    const delay = (this.#opts.bootDelayMs ?? 2000) + Math.random() * (this.#opts.bootJitterMs ?? 0);
    const registerAt = Math.max(Date.now(), Date.parse(vm.launchTime)) + delay;
    const boot = bootFromUserData(vm.userData ?? "");
    this.#managed.set(name, {
      vm,
      join: boot.join,
      log: boot.log,
      conditions: initialConditions(),
      registered: false,
      registerAt,
      lastStatus: 0,
      lastLease: 0,
    });
  }

  async #tick(signal: AbortSignal): Promise<void> {
    let lastPods = 0;
    while (!signal.aborted) {
      const t = Date.now();
      // Nodes are served by a few workers in parallel, as many kubelets would talk at once.
      const due = [...this.#managed];
      const worker = async (): Promise<void> => {
        for (let next = due.shift(); next && !signal.aborted; next = due.shift()) {
          const [name, m] = next;
          await this.#step(name, m, t).catch((err: unknown) => this.#opts.onError?.(err, `node ${name}`));
        }
      };
      await Promise.all(Array.from({ length: this.#opts.parallelism ?? 16 }, worker));
      if (t - lastPods >= 1000) {
        lastPods = t;
        await this.#runPods().catch((err: unknown) => this.#opts.onError?.(err, "pods"));
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Like a kubelet for the pods bound to simulated nodes: start them, and finish their deletion. */
  async #runPods(): Promise<void> {
    if (this.#managed.size === 0) return;
    for (const pod of await this.#opts.nodes.boundPods()) {
      if (!this.#managed.get(pod.nodeName)?.registered) continue;
      if (pod.deleting) await this.#opts.nodes.removePod(pod.namespace, pod.name);
      else if (pod.phase === "Pending") await this.#opts.nodes.startPod(pod.namespace, pod.name);
    }
  }

  async #step(name: string, m: Managed, t: number): Promise<void> {
    if (!m.registered) {
      if (t < m.registerAt) return;
      const credentials = await this.#join(name, m);
      if (credentials === false) {
        m.registerAt = Date.now() + (this.#opts.joinRetryMs ?? 5000);
        return;
      }
      await this.#opts.nodes.createNode(this.#node(name, m), credentials);
      m.registered = true;
      say(m, `kubelet: node ${name} registered`);
      await this.#reportStatus(name, m);
    }
    const leaseMs = this.#opts.leaseRenewMs ?? 10_000;
    if (t - m.lastLease >= leaseMs) {
      m.lastLease = t;
      await this.#opts.nodes.renewLease(name, new Date(t).toISOString().replace("Z", "000Z"), 40);
    }
    if (t - m.lastStatus >= (this.#opts.statusRefreshMs ?? 60_000)) await this.#reportStatus(name, m);
  }

  /**
   * The kubelet's join: TLS bootstrap with the user data's token. Returns the node's credentials,
   * undefined when the node registers without a token, or false when the join failed.
   */
  async #join(name: string, m: Managed): Promise<NodeCredentials | undefined | false> {
    const join = m.join;
    if (!join) {
      if (this.#opts.allowJoinWithoutToken ?? true) return undefined;
      return this.#joinFailed(name, m, "the user data carries no bootstrap token");
    }
    const saved = await this.#opts.kubeletState?.load(m.vm.id);
    if (saved) {
      say(m, `kubelet: client certificate for system:node:${name} found; no bootstrap needed`);
      return saved;
    }
    if (!join.token) return this.#joinFailed(name, m, `no bootstrap token in ${join.source}`);
    const signal = this.#abort?.signal ?? AbortSignal.abort();
    const input = {
      token: join.token,
      ...(join.server ? { server: join.server } : {}),
      ...(join.caPem ? { caPem: join.caPem } : {}),
    };
    let credentials: NodeCredentials;
    try {
      credentials = await this.#opts.nodes.tlsBootstrap(name, input, signal);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      return this.#joinFailed(name, m, `TLS bootstrap with the token from ${join.source} failed: ${why}`);
    }
    say(m, `kubelet: TLS bootstrap done; client certificate for system:node:${name}`);
    await this.#opts.kubeletState?.save(m.vm.id, credentials);
    return credentials;
  }

  #joinFailed(name: string, m: Managed, why: string): false {
    say(m, `kubelet: ${why}`);
    this.#opts.onError?.(new Error(`node ${name} cannot join: ${why}`), `node ${name}`);
    return false;
  }

  async #reportStatus(name: string, m: Managed): Promise<void> {
    m.lastStatus = Date.now();
    const heartbeat = now();
    for (const c of m.conditions.values()) c.lastHeartbeatTime = heartbeat;
    await this.#opts.nodes.patchNodeStatus(name, {
      ...this.#status(m),
      conditions: [...m.conditions.values()],
    });
  }

  #node(name: string, m: Managed): SimNode {
    return {
      metadata: {
        name,
        labels: {
          "kubernetes.io/hostname": name,
          "kubernetes.io/os": "linux",
          "kubernetes.io/arch": "amd64",
          "node.kubernetes.io/instance-type": m.vm.machineType,
          "topology.kubernetes.io/zone": m.vm.zone,
          // --node-labels win over the kubelet's own, as on a real node.
          ...m.join?.labels,
        },
      },
      spec: {
        providerID: m.vm.providerID ?? providerIdOf(m.vm),
        ...(m.join && m.join.taints.length > 0 ? { taints: [...m.join.taints] } : {}),
      },
      status: { ...this.#status(m), conditions: [...m.conditions.values()] },
    };
  }

  #status(m: Managed): Omit<NodeStatus, "conditions"> {
    const type = MACHINE_TYPES[m.vm.machineType] ?? { cpu: "1", memory: "1Gi", pods: "110" };
    const capacity = { cpu: type.cpu, memory: type.memory, pods: type.pods };
    return {
      capacity,
      allocatable: capacity,
      addresses: [
        { type: "InternalIP", address: internalIp(m.vm.id) },
        { type: "Hostname", address: m.vm.name },
      ],
      nodeInfo: {
        kubeletVersion: this.#opts.kubeletVersion ?? "v1.36.2",
        kubeProxyVersion: "",
        operatingSystem: "linux",
        architecture: "amd64",
        osImage: "sprout virtual node",
        kernelVersion: "6.1.0",
        containerRuntimeVersion: "containerd://2.1.0",
        machineID: m.vm.id,
        systemUUID: m.vm.id,
        bootID: m.vm.id,
      },
    };
  }
}

function say(m: Managed, line: string): void {
  m.log.push(`${now()} ${line}`);
  if (m.log.length > 50) m.log.shift();
}

function initialConditions(): Map<string, NodeCondition> {
  const t = now();
  const c = (type: string, status: NodeCondition["status"], reason: string): [string, NodeCondition] => [
    type,
    { type, status, reason, message: reason, lastHeartbeatTime: t, lastTransitionTime: t },
  ];
  return new Map([
    c("Ready", "True", "KubeletReady"),
    c("MemoryPressure", "False", "KubeletHasSufficientMemory"),
    c("DiskPressure", "False", "KubeletHasNoDiskPressure"),
    c("PIDPressure", "False", "KubeletHasSufficientPID"),
  ]);
}

/** A stable 10.x address derived from the VM id (never routed anywhere). */
function internalIp(id: string): string {
  const h = createHash("sha256").update(id).digest();
  return `10.${h[0] ?? 0}.${h[1] ?? 0}.${((h[2] ?? 0) % 254) + 1}`;
}
