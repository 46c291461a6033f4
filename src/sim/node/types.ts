import type { NodeTaint } from "../../bootstrap/index.ts";
import type { VmState } from "../cloud/types.ts";

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
