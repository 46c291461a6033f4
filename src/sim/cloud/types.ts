/** The virtual cloud's wire types, shared by its server, its client and the node simulator. */

export type VmState = "pending" | "running" | "terminated";

export interface Vm {
  readonly id: string;
  readonly name: string;
  readonly zone: string;
  readonly machineType: string;
  readonly tags: Readonly<Record<string, string>>;
  /** base64 user data, as given at create. */
  readonly userData: string;
  /** The create call's idempotency token, if it gave one. */
  readonly clientToken?: string;
  state: VmState;
  readonly launchTime: string;
  terminatedTime?: string;
  /** Bumped on every change; the changes feed returns VMs with a newer version. */
  version: number;
}

/**
 * A NIC or a boot disk: made with its VM but a resource of its own, as in a real cloud. Deleting a
 * VM deletes them too, unless the orphanDependentsRate fault leaves them behind, detached.
 */
export interface Dependent {
  readonly id: string;
  readonly kind: "nic" | "disk";
  /** The VM's tags, given at create. */
  readonly tags: Readonly<Record<string, string>>;
  /** The live VM it is attached to; unset once it is detached (or when its VM was never made). */
  attachedTo?: string;
}

export interface CreateVmInput {
  /**
   * Idempotency token: a create with the token of an existing VM returns that VM (as EC2's
   * ClientToken). Names are not unique: without a token every create makes a new VM.
   */
  readonly clientToken?: string;
  readonly name: string;
  readonly zone: string;
  readonly machineType: string;
  readonly tags?: Readonly<Record<string, string>>;
  readonly userData?: string;
}

export interface Faults {
  /** Milliseconds a create takes (the VM exists as pending meanwhile). */
  createLatencyMs: number;
  /** Milliseconds a delete takes before the VM is terminated. */
  deleteLatencyMs: number;
  /** Probability (0..1) that a create fails with an internal error, creating nothing. */
  failureRate: number;
  /**
   * Probability (0..1) that a create fails with an internal error half-way: the VM's NIC and disk
   * are made, the VM is not, and they are left behind, detached.
   */
  halfCreateRate: number;
  /** Probability (0..1) that deleting a VM leaves its NIC and disk behind, detached. */
  orphanDependentsRate: number;
  /** Probability (0..1) that any call is throttled (HTTP 429). */
  throttleRate: number;
  /** Probability (0..1) that a create makes its VM but the answer is lost (the connection drops). */
  lostAnswerRate: number;
  /** Most VMs that may exist (not terminated) at once; -1 for no limit. */
  quota: number;
}

export const DEFAULT_FAULTS: Faults = {
  createLatencyMs: 0,
  deleteLatencyMs: 0,
  failureRate: 0,
  halfCreateRate: 0,
  orphanDependentsRate: 0,
  throttleRate: 0,
  lostAnswerRate: 0,
  quota: -1,
};

/** Error body of every non-2xx response. */
export interface CloudError {
  readonly code:
    | "NotFound"
    | "Throttled"
    | "QuotaExceeded"
    | "InvalidParameter"
    | "Unauthorized"
    | "InUse"
    | "InternalError";
  readonly message: string;
}

/** Capacity of the machine types the virtual cloud offers. */
export const MACHINE_TYPES: Readonly<Record<string, { cpu: string; memory: string; pods: string }>> = {
  small: { cpu: "2", memory: "4Gi", pods: "110" },
  medium: { cpu: "4", memory: "16Gi", pods: "110" },
  large: { cpu: "16", memory: "64Gi", pods: "250" },
};

export const PROVIDER_ID_PREFIX = "virtual:///";

export const providerIdOf = (vm: Pick<Vm, "zone" | "id">): string =>
  `${PROVIDER_ID_PREFIX}${vm.zone}/${vm.id}`;

/** The VM id of a virtual providerID, or undefined when it is not one. */
export function vmIdOf(providerID: string): string | undefined {
  if (!providerID.startsWith(PROVIDER_ID_PREFIX)) return undefined;
  const id = providerID.slice(PROVIDER_ID_PREFIX.length).split("/")[1];
  return id && id.length > 0 ? id : undefined;
}
