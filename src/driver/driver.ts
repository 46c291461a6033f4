import type { Machine } from "../api/v1alpha1/machine.ts";
import type { MachineClass } from "../api/v1alpha1/machineclass.ts";
import type { PluginContext } from "./context.ts";

export type { CloudApiMetrics, DriverClock, DriverLogger, PluginContext } from "./context.ts";

/**
 * The driver contract (docs/contracts/driver.md): MCM's six calls with a request and a response
 * object each, so adding a field never breaks a plugin. Errors are thrown as MachineError with a
 * code; the controller's reaction to each code is part of the contract.
 */

/** What every request carries besides its data. */
export interface CallOptions {
  /**
   * Aborted when the call's deadline passes (the registry's --driver-call-timeout) or the caller
   * gives up (the controller stops). A driver passes it to every cloud request and stops waiting
   * when it aborts. The registry always sets it; it is optional only so tests may call a bare driver.
   */
  readonly signal?: AbortSignal;
}

/** Secret data: secretRef's keys overlaid with credentialsSecretRef's (the latter win). */
export type SecretData = Readonly<Record<string, Buffer>>;

export interface NodeAddress {
  readonly type: string;
  readonly address: string;
}

export interface CreateMachineRequest extends CallOptions {
  readonly machine: Machine;
  readonly machineClass: MachineClass;
  /** Includes the rendered userData (placeholders substituted). */
  readonly secret: SecretData;
}

export interface CreateMachineResponse {
  readonly providerID: string;
  readonly nodeName: string;
  /** Stored in status.lastKnownState and handed back on later calls (e.g. IDs of a NIC and disks). */
  readonly lastKnownState?: string;
  readonly addresses?: readonly NodeAddress[];
}

export interface InitializeMachineRequest extends CallOptions {
  readonly machine: Machine;
  readonly machineClass: MachineClass;
  readonly secret: SecretData;
}

export interface InitializeMachineResponse {
  readonly providerID: string;
  readonly nodeName: string;
  /** Stored in status.lastKnownState (replacing create's) and handed back on later calls. */
  readonly lastKnownState?: string;
  readonly addresses?: readonly NodeAddress[];
}

export interface DeleteMachineRequest extends CallOptions {
  /** Uses spec.providerID, status.lastKnownState and the name. */
  readonly machine: Machine;
  readonly machineClass: MachineClass;
  readonly secret: SecretData;
}

export interface DeleteMachineResponse {
  readonly lastKnownState?: string;
}

export interface GetMachineStatusRequest extends CallOptions {
  readonly machine: Machine;
  readonly machineClass: MachineClass;
  readonly secret: SecretData;
}

export interface GetMachineStatusResponse {
  readonly providerID: string;
  readonly nodeName: string;
  readonly addresses?: readonly NodeAddress[];
}

export interface ListMachinesRequest extends CallOptions {
  readonly machineClass: MachineClass;
  readonly secret: SecretData;
}

export interface ListMachinesResponse {
  /** providerID → machine name, for every VM of the class's cluster. */
  readonly machineList: ReadonlyMap<string, string>;
}

/** A PersistentVolume spec as the driver sees it (core/v1 PersistentVolumeSpec). */
export type PersistentVolumeSpec = Readonly<Record<string, unknown>>;

export interface GetVolumeIDsRequest extends CallOptions {
  readonly pvSpecs: readonly PersistentVolumeSpec[];
}

export interface GetVolumeIDsResponse {
  /** IDs of this driver's volumes among pvSpecs; others are left out. */
  readonly volumeIDs: readonly string[];
}

export interface Driver {
  createMachine(req: CreateMachineRequest): Promise<CreateMachineResponse>;
  /** Optional: throw MachineError Unimplemented when there is nothing to do. */
  initializeMachine(req: InitializeMachineRequest): Promise<InitializeMachineResponse>;
  deleteMachine(req: DeleteMachineRequest): Promise<DeleteMachineResponse>;
  getMachineStatus(req: GetMachineStatusRequest): Promise<GetMachineStatusResponse>;
  listMachines(req: ListMachinesRequest): Promise<ListMachinesResponse>;
  getVolumeIDs(req: GetVolumeIDsRequest): Promise<GetVolumeIDsResponse>;
}

/** What a plugin package's default export provides. */
export interface DriverPlugin {
  /** Plugin name, e.g. "virtual". */
  readonly name: string;
  /** Builds a driver; called once per process. */
  create(ctx: PluginContext): Driver | Promise<Driver>;
}

/** The driver's calls under MCM's names (the `operation` label of the driver metrics). */
export const DRIVER_OPERATIONS = {
  createMachine: "CreateMachine",
  initializeMachine: "InitializeMachine",
  deleteMachine: "DeleteMachine",
  getMachineStatus: "GetMachineStatus",
  listMachines: "ListMachines",
  getVolumeIDs: "GetVolumeIDs",
} as const satisfies Record<keyof Driver, string>;
