import { createHash } from "node:crypto";
import type { NodeJoin, NodeTaint } from "../../bootstrap/index.ts";
import { bootFromUserData } from "./boot.ts";
import { MACHINE_TYPES, providerIdOf, type VmState } from "../cloud/types.ts";

/** A Node as the simulator writes it (core/v1 subset). */
export interface SimNode {
  metadata: { name: string; labels: Record<string, string> };
  spec: { providerID: string; taints?: NodeTaint[] };
  status: NodeStatus;
}

export interface NodeCondition {
  type: string;
  status: "True" | "False" | "Unknown";
  reason: string;
  message: string;
  lastHeartbeatTime: string;
  lastTransitionTime: string;
}

export interface NodeStatus {
  capacity: Record<string, string>;
  allocatable: Record<string, string>;
  conditions: NodeCondition[];
  addresses: { type: string; address: string }[];
  nodeInfo: Record<string, string>;
}

export interface BoundPod {
  readonly namespace: string;
  readonly name: string;
  readonly nodeName: string;
  readonly phase: string;
  readonly deleting: boolean;
}

/** What a kubelet's TLS bootstrap starts from: the bootstrap kubeconfig in the user data. */
export interface TlsBootstrapInput {
  readonly token: string;
  /** The apiserver the bootstrap kubeconfig names; the target cluster's when unset. */
  readonly server?: string;
  /** The CA the bootstrap kubeconfig trusts; the target cluster's when unset. */
  readonly caPem?: string;
}

/** A node's own client credentials after TLS bootstrap (system:node:<name>). */
export interface NodeCredentials {
  readonly server: string;
  readonly caPem: string;
  readonly certPem: string;
  readonly keyPem: string;
}

/**
 * What a kubelet keeps on its VM's disk across restarts (/var/lib/kubelet/pki): its client
 * certificate. With it, a restarted simulator does not bootstrap again nodes that joined before.
 */
export interface KubeletState {
  load(vmId: string): Promise<NodeCredentials | undefined>;
  save(vmId: string, credentials: NodeCredentials): Promise<void>;
  forget(vmId: string): Promise<void>;
}

/** What the simulator needs of the target cluster; the embedding process supplies it. */
export interface NodeApi {
  /**
   * A kubelet's TLS bootstrap: with the bootstrap token, obtain a client certificate for
   * system:node:<name> (a CertificateSigningRequest the cluster approves and signs). Rejects when
   * the apiserver refuses the token (expired, deleted, unknown) or never issues the certificate.
   */
  tlsBootstrap(name: string, input: TlsBootstrapInput, signal: AbortSignal): Promise<NodeCredentials>;
  /**
   * Creates the Node (status included), as the node itself when credentials are given; an
   * existing Node is left as it is.
   */
  createNode(node: SimNode, as?: NodeCredentials): Promise<void>;
  patchNodeStatus(name: string, status: Partial<NodeStatus>): Promise<void>;
  /** Deletes the Node; a missing one is fine. */
  deleteNode(name: string): Promise<void>;
  /** Creates or renews the node's Lease in kube-node-lease. */
  renewLease(name: string, renewTime: string, durationSeconds: number): Promise<void>;
  /** Pods bound to nodes: their phase and whether they are being deleted. */
  boundPods(): Promise<BoundPod[]>;
  /** Marks a pod Running and Ready, as a kubelet does once its containers started. */
  startPod(namespace: string, name: string): Promise<void>;
  /** Removes a pod object at once, as a kubelet does once its containers stopped. */
  removePod(namespace: string, name: string): Promise<void>;
}

/** A VM as the simulator needs to know it; the virtual cloud's VMs are such. */
export interface SimVm {
  readonly id: string;
  /** The name its Node registers with. */
  readonly name: string;
  readonly zone: string;
  readonly machineType: string;
  readonly state: VmState;
  readonly launchTime: string;
  /** base64 user data; how the node joins is read from it. */
  readonly userData?: string;
  /** The Node's spec.providerID; the virtual cloud's form when unset. */
  readonly providerID?: string;
}

/** Where the simulator learns of VMs: the virtual cloud's change feed (CloudClient) or another cloud's. */
export interface VmFeed {
  /** VMs changed after version `since` (terminated ones included); may wait up to waitMs for one. */
  changes(
    since: number,
    waitMs: number,
    signal?: AbortSignal,
  ): Promise<{ version: number; vms: readonly SimVm[] }>;
}

export interface NodeSimulatorOptions {
  readonly cloud: VmFeed;
  readonly nodes: NodeApi;
  /** Time from a VM running to its Node registering. Default 2 s. */
  readonly bootDelayMs?: number;
  /** Random extra boot time, up to this. Default 0. */
  readonly bootJitterMs?: number;
  /** Lease renewal period (a kubelet's is 10 s). Default 10 s. */
  readonly leaseRenewMs?: number;
  /** Node status refresh period when nothing changed (a kubelet's is 5 min). Default 60 s. */
  readonly statusRefreshMs?: number;
  readonly kubeletVersion?: string;
  /** Nodes served at once (requests in flight). Default 16. */
  readonly parallelism?: number;
  /**
   * Whether a VM whose user data carries no bootstrap token may still register (as a node whose
   * image holds its credentials). Default true; false makes such VMs fail to join.
   */
  readonly allowJoinWithoutToken?: boolean;
  /** Wait before a failed join is tried again, as a restarting kubelet would. Default 5 s. */
  readonly joinRetryMs?: number;
  /** Where nodes keep their client certificates across simulator restarts; nowhere when unset. */
  readonly kubeletState?: KubeletState;
  readonly onError?: (err: unknown, what: string) => void;
}

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
