import type { MachineClass } from "sprout/api";
import type {
  CloudApiMetrics,
  CreateMachineRequest,
  CreateMachineResponse,
  DeleteMachineRequest,
  DeleteMachineResponse,
  Driver,
  GetMachineStatusRequest,
  GetMachineStatusResponse,
  GetVolumeIDsRequest,
  GetVolumeIDsResponse,
  InitializeMachineResponse,
  ListMachinesRequest,
  ListMachinesResponse,
  SecretData,
} from "sprout/driver";
import { MachineError } from "sprout/driver";
import { CloudCallError, CloudClient, providerIdOf, type Vm, vmIdOf } from "sprout/sim/cloud";
import { parseProviderSpec, type VirtualProviderSpec } from "./provider-spec.ts";

/** Tag holding the machine name; with the cluster tag it finds a cluster's VMs. */
export const MACHINE_NAME_TAG = "sprout.gardener.cloud/machine";
/** Secret key with the virtual cloud's API token (optional). */
export const TOKEN_KEY = "virtualCloudToken";
/** CSI driver name of the virtual cloud's volumes. */
export const CSI_DRIVER = "disk.csi.virtual.sprout";

/** Maps a virtual cloud failure to the driver error code the controller reacts to. */
export function toMachineError(err: unknown, what: string): MachineError {
  if (err instanceof MachineError) return err;
  if (!(err instanceof CloudCallError)) return new MachineError("Internal", `${what}: ${String(err)}`);
  const code =
    err.code === "NotFound"
      ? "NotFound"
      : err.code === "QuotaExceeded"
        ? "ResourceExhausted"
        : err.code === "Throttled" || err.code === "Unreachable"
          ? "Unavailable"
          : err.code === "Unauthorized"
            ? "Unauthenticated"
            : err.code === "InvalidParameter"
              ? "InvalidArgument"
              : "Internal";
  return new MachineError(code, `${what}: ${err.message}`);
}

/** The driver of the virtual cloud: a VM per Machine, found by providerID or by its name tag. */
export class VirtualDriver implements Driver {
  readonly #defaultEndpoint: string | undefined;
  readonly #opts: { metrics?: CloudApiMetrics; pageSize?: number };

  constructor(opts: { endpoint?: string; metrics?: CloudApiMetrics; pageSize?: number } = {}) {
    this.#defaultEndpoint = opts.endpoint;
    this.#opts = opts;
  }

  #client(spec: VirtualProviderSpec, secret: SecretData, signal: AbortSignal | undefined): CloudClient {
    const endpoint = spec.endpoint ?? this.#defaultEndpoint;
    if (!endpoint) {
      throw new MachineError(
        "InvalidArgument",
        "providerSpec.endpoint is not set and SPROUT_VIRTUAL_CLOUD_ENDPOINT is empty: nowhere to create VMs",
      );
    }
    return new CloudClient(endpoint, secret[TOKEN_KEY]?.toString(), { ...this.#opts, signal });
  }

  #context(req: { machineClass: MachineClass; secret: SecretData; signal?: AbortSignal }): {
    spec: VirtualProviderSpec;
    cloud: CloudClient;
  } {
    const spec = parseProviderSpec(req.machineClass.providerSpec);
    return { spec, cloud: this.#client(spec, req.secret, req.signal) };
  }

  async createMachine(req: CreateMachineRequest): Promise<CreateMachineResponse> {
    const { spec, cloud } = this.#context(req);
    const name = req.machine.metadata?.name ?? "";
    try {
      // Idempotent twice over: an existing VM of this machine is returned, and the create carries
      // the Machine's UID as token, so a repeated or concurrent call never makes a second VM.
      const [existing] = await cloud.findVms({ tags: { [MACHINE_NAME_TAG]: name } });
      if (existing) return { providerID: providerIdOf(existing), nodeName: existing.name };
      const vm = await cloud.createVm({
        clientToken: req.machine.metadata?.uid ?? name,
        name,
        zone: spec.zone,
        machineType: spec.machineType,
        tags: { ...spec.tags, [MACHINE_NAME_TAG]: name },
        userData: req.secret.userData?.toString("base64") ?? "",
      });
      return { providerID: providerIdOf(vm), nodeName: vm.name };
    } catch (err) {
      // A create that failed half-way may have left the VM's NIC and disk: they go now (best
      // effort; deleteMachine removes what is still left).
      await this.#deleteDependents(cloud, spec, name).catch(() => undefined);
      throw toMachineError(err, `creating VM for machine ${name}`);
    }
  }

  initializeMachine(): Promise<InitializeMachineResponse> {
    return Promise.reject(new MachineError("Unimplemented", "the virtual cloud needs no initialization"));
  }

  async deleteMachine(req: DeleteMachineRequest): Promise<DeleteMachineResponse> {
    const { spec, cloud } = this.#context(req);
    const name = req.machine.metadata?.name ?? "";
    try {
      for (const vm of await this.#vmsOf(cloud, req.machine.spec.providerID, name)) {
        await cloud.deleteVm(vm.id).catch(ignore("NotFound"));
      }
      // Also when no VM was found (its status said NotFound): what it left behind still goes.
      await this.#deleteDependents(cloud, spec, name);
      return {};
    } catch (err) {
      throw toMachineError(err, `deleting VM of machine ${name}`);
    }
  }

  async getMachineStatus(req: GetMachineStatusRequest): Promise<GetMachineStatusResponse> {
    const { cloud } = this.#context(req);
    const name = req.machine.metadata?.name ?? "";
    let vms: Vm[];
    try {
      vms = await this.#vmsOf(cloud, req.machine.spec.providerID, name);
    } catch (err) {
      throw toMachineError(err, `looking up VM of machine ${name}`);
    }
    const [vm, ...more] = vms;
    if (!vm) throw new MachineError("NotFound", `no VM for machine ${name}`);
    if (more.length > 0) throw new MachineError("OutOfRange", `${vms.length} VMs carry machine name ${name}`);
    return { providerID: providerIdOf(vm), nodeName: vm.name };
  }

  async listMachines(req: ListMachinesRequest): Promise<ListMachinesResponse> {
    const { spec, cloud } = this.#context(req);
    try {
      const vms = await cloud.findVms({ tags: spec.tags });
      return {
        machineList: new Map(
          vms
            .filter((vm) => vm.tags[MACHINE_NAME_TAG])
            .map((vm) => [providerIdOf(vm), vm.tags[MACHINE_NAME_TAG] ?? ""]),
        ),
      };
    } catch (err) {
      throw toMachineError(err, "listing VMs");
    }
  }

  getVolumeIDs(req: GetVolumeIDsRequest): Promise<GetVolumeIDsResponse> {
    const ids = req.pvSpecs.flatMap((spec) => {
      const csi = spec.csi as { driver?: string; volumeHandle?: string } | undefined;
      return csi?.driver === CSI_DRIVER && csi.volumeHandle ? [csi.volumeHandle] : [];
    });
    return Promise.resolve({ volumeIDs: ids });
  }

  /**
   * Deletes the NICs and disks of the machine (its name and the class's tags) that no VM holds:
   * those of a create that failed half-way or of a VM deleted without them. Attached ones belong
   * to a live VM and stay.
   */
  async #deleteDependents(cloud: CloudClient, spec: VirtualProviderSpec, name: string): Promise<void> {
    const dependents = await cloud.findDependents({ ...spec.tags, [MACHINE_NAME_TAG]: name });
    for (const d of dependents.filter((x) => x.attachedTo === undefined)) {
      await cloud.deleteDependent(d.id).catch(ignore("NotFound", "InUse"));
    }
  }

  /** The VM a providerID names, or the VMs tagged with the machine name when there is none. */
  async #vmsOf(cloud: CloudClient, providerID: string | undefined, name: string): Promise<Vm[]> {
    const id = providerID ? vmIdOf(providerID) : undefined;
    if (id) {
      try {
        return [await cloud.getVm(id)];
      } catch (err) {
        ignore("NotFound")(err);
        return [];
      }
    }
    return cloud.findVms({ tags: { [MACHINE_NAME_TAG]: name } });
  }
}

/** A catch handler that swallows the given cloud error codes and rethrows anything else. */
function ignore(...codes: CloudCallError["code"][]): (err: unknown) => void {
  return (err) => {
    if (!(err instanceof CloudCallError && codes.includes(err.code))) throw err;
  };
}
