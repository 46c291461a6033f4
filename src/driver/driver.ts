import type { Machine } from "../api/v1alpha1/machine.ts";
import type { MachineClass } from "../api/v1alpha1/machineclass.ts";

/**
 * The driver contract (docs/contracts/driver.md): MCM's six calls with a request and a response
 * object each, so adding a field never breaks a plugin. Errors are thrown as MachineError with a
 * code; the controller's reaction to each code is part of the contract.
 */

/** Secret data: secretRef's keys overlaid with credentialsSecretRef's (the latter win). */
export type SecretData = Readonly<Record<string, Buffer>>;

export interface NodeAddress {
  readonly type: string;
  readonly address: string;
}

export interface CreateMachineRequest {
  readonly machine: Machine;
  readonly machineClass: MachineClass;
  /** Includes the rendered userData (placeholders substituted). */
  readonly secret: SecretData;
}

export interface CreateMachineResponse {
  readonly providerID: string;
  readonly nodeName: string;
  readonly lastKnownState?: string;
  readonly addresses?: readonly NodeAddress[];
}

export interface InitializeMachineRequest {
  readonly machine: Machine;
  readonly machineClass: MachineClass;
  readonly secret: SecretData;
}

export interface InitializeMachineResponse {
  readonly providerID: string;
  readonly nodeName: string;
  readonly addresses?: readonly NodeAddress[];
}

export interface DeleteMachineRequest {
  /** Uses spec.providerID, status.lastKnownState and the name. */
  readonly machine: Machine;
  readonly machineClass: MachineClass;
  readonly secret: SecretData;
}

export interface DeleteMachineResponse {
  readonly lastKnownState?: string;
}

export interface GetMachineStatusRequest {
  readonly machine: Machine;
  readonly machineClass: MachineClass;
  readonly secret: SecretData;
}

export interface GetMachineStatusResponse {
  readonly providerID: string;
  readonly nodeName: string;
  readonly addresses?: readonly NodeAddress[];
}

export interface ListMachinesRequest {
  readonly machineClass: MachineClass;
  readonly secret: SecretData;
}

export interface ListMachinesResponse {
  /** providerID → machine name, for every VM of the class's cluster. */
  readonly machineList: ReadonlyMap<string, string>;
}

/** A PersistentVolume spec as the driver sees it (core/v1 PersistentVolumeSpec). */
export type PersistentVolumeSpec = Readonly<Record<string, unknown>>;

export interface GetVolumeIDsRequest {
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

export interface PluginContext {
  /** Environment for endpoints and settings (process.env unless overridden, e.g. in tests). */
  readonly env: Readonly<Record<string, string | undefined>>;
}
