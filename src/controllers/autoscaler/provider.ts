import { AutoscalerKeys } from "../../api/constants.ts";
import { MachineResources } from "../../api/resources.ts";
import type { Machine } from "../../api/v1alpha1/machine.ts";
import type { MachineClass } from "../../api/v1alpha1/machineclass.ts";
import type { MachineDeployment } from "../../api/v1alpha1/machinedeployment.ts";
import type { MachineSet } from "../../api/v1alpha1/machineset.ts";
import { type Clock, realClock } from "../../runtime/clock.ts";
import type { KubeClient, KubeObject } from "../../runtime/client/client.ts";
import {
  deploymentOf,
  groupById,
  groupsOf,
  machineForNode,
  machinesOf,
  type NodeRef,
  registered,
  type Snapshot,
} from "./model.ts";
import { type AutoscalingOptions, encodeNode, optionsFor, templateNode } from "./template.ts";
import { decreaseTargetSize, deleteNodes, increaseSize, type WriteDeps } from "./writes.ts";

export interface ProviderOptions {
  /** Client of the control cluster (where the Machine objects live). */
  readonly client: KubeClient;
  readonly namespace: string;
  readonly clock?: Clock;
  /** Reads are served from a snapshot at most this old unless Refresh dropped it. Default 10 s. */
  readonly maxSnapshotAgeMs?: number;
}

/** One instance of NodeGroupNodes (Instance of the proto, before encoding). */
export interface InstanceInfo {
  readonly id: string;
  readonly status: {
    readonly instanceState: number;
    readonly errorInfo?: { errorCode: string; errorMessage: string; instanceErrorClass: number } | undefined;
  };
}

/** InstanceState and the cluster-autoscaler's error classes. */
export const InstanceState = { running: 1, creating: 2, deleting: 3 } as const;
export const ErrorClass = { outOfResources: 1, other: 99 } as const;

const stateOf = (m: Machine): number => {
  if (m.metadata?.deletionTimestamp || m.status?.currentStatus?.phase === "Terminating") {
    return InstanceState.deleting;
  }
  return registered(m) ? InstanceState.running : InstanceState.creating;
};

/** A create the cloud refused for capacity: the autoscaler backs the group off and tries another. */
function exhaustedCreate(m: Machine): InstanceInfo["status"]["errorInfo"] {
  const op = m.status?.lastOperation;
  if (op?.type !== "Create" || op.state !== "Failed" || op.errorCode !== "ResourceExhausted")
    return undefined;
  return {
    errorCode: "ResourceExhausted",
    errorMessage: op.description ?? "",
    instanceErrorClass: ErrorClass.outOfResources,
  };
}

/** The instance of a machine: its providerID once its Node registered, else requested://<machine>. */
export function instanceOf(m: Machine): InstanceInfo {
  const providerID = registered(m) ? m.spec?.providerID : undefined;
  const id = providerID || `${AutoscalerKeys.requestedScheme}${m.metadata?.name ?? ""}`;
  const instanceState = stateOf(m);
  const errorInfo = instanceState === InstanceState.creating ? exhaustedCreate(m) : undefined;
  return { id, status: errorInfo ? { instanceState, errorInfo } : { instanceState } };
}

/**
 * The cluster-autoscaler's view of one control namespace: node groups are MachineDeployments with
 * size annotations; reads come from a snapshot (listed once, dropped by Refresh), size changes are
 * one Update of the deployment each, read afresh.
 */
export class AutoscalerProvider {
  readonly namespace: string;
  readonly #client: KubeClient;
  readonly #clock: Clock;
  readonly #maxAgeMs: number;
  #snapshot: { at: number; value: Promise<Snapshot> } | undefined;

  constructor(opts: ProviderOptions) {
    this.#client = opts.client;
    this.namespace = opts.namespace;
    this.#clock = opts.clock ?? realClock;
    this.#maxAgeMs = opts.maxSnapshotAgeMs ?? 10_000;
  }

  /** Lists deployments, sets, machines and classes of the namespace at once. */
  async #list(): Promise<Snapshot> {
    const ns = this.namespace;
    const items = async <T>(ref: (typeof MachineResources)[keyof typeof MachineResources]) =>
      (await this.#client.list<T & KubeObject>(ref, ns)).items;
    const [deployments, sets, machines, classes] = await Promise.all([
      items<MachineDeployment>(MachineResources.machineDeployments),
      items<MachineSet>(MachineResources.machineSets),
      items<Machine>(MachineResources.machines),
      items<MachineClass>(MachineResources.machineClasses),
    ]);
    return { namespace: ns, deployments, sets, machines, classes };
  }

  #snap(): Promise<Snapshot> {
    const now = this.#clock.now();
    if (!this.#snapshot || now - this.#snapshot.at > this.#maxAgeMs) {
      const value = this.#list();
      this.#snapshot = { at: now, value };
      value.catch(() => {
        if (this.#snapshot?.value === value) this.#snapshot = undefined;
      });
    }
    return this.#snapshot.value;
  }

  #writes(): WriteDeps {
    return { client: this.#client, clock: this.#clock, fresh: () => this.#list() };
  }

  /** Refresh: the next read lists afresh. */
  refresh(): void {
    this.#snapshot = undefined;
  }

  async nodeGroups() {
    return groupsOf(await this.#snap()).map(({ id, minSize, maxSize, debug }) => ({
      id,
      minSize,
      maxSize,
      debug,
    }));
  }

  /** The node's group; id "" when sprout does not manage the node in a group. */
  async nodeGroupForNode(node: NodeRef) {
    const s = await this.#snap();
    const m = machineForNode(s, node);
    const d = m && deploymentOf(s, m);
    const group = d && groupsOf(s).find((g) => g.deployment === d);
    return group
      ? { id: group.id, minSize: group.minSize, maxSize: group.maxSize, debug: group.debug }
      : { id: "" };
  }

  async targetSize(id: string): Promise<number> {
    return groupById(await this.#snap(), id).deployment.spec?.replicas ?? 0;
  }

  async nodes(id: string): Promise<InstanceInfo[]> {
    const s = await this.#snap();
    return machinesOf(s, groupById(s, id)).map(instanceOf);
  }

  async templateNode(id: string): Promise<Buffer> {
    const s = await this.#snap();
    return encodeNode(templateNode(s, groupById(s, id)));
  }

  async options(id: string, defaults: AutoscalingOptions): Promise<AutoscalingOptions> {
    return optionsFor(groupById(await this.#snap(), id), defaults);
  }

  async increaseSize(id: string, delta: number): Promise<void> {
    await increaseSize(this.#writes(), id, delta);
    this.refresh();
  }

  async deleteNodes(id: string, nodes: readonly NodeRef[]): Promise<void> {
    await deleteNodes(this.#writes(), id, nodes);
    this.refresh();
  }

  async decreaseTargetSize(id: string, delta: number): Promise<void> {
    await decreaseTargetSize(this.#writes(), id, delta);
    this.refresh();
  }

  /** The label of the GPU type on a Node. */
  gpuLabel(): string {
    return AutoscalerKeys.gpuLabel;
  }
}
