import type { VirtualMachine } from "@azure/arm-compute";
import { type Machine, type MachineClass, SecretKeys } from "sprout/api";
import type {
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
import { KeyedLock, MachineError } from "sprout/driver";
import { credentialsOf } from "./credentials.ts";
import { isTransient, toMachineError } from "./errors.ts";
import { type AzureProviderSpec, clusterTags, parseProviderSpec } from "./provider-spec.ts";
import { ArmClients, type ArmOptions, type ArmPort } from "./sdk.ts";
import {
  dataDiskInput,
  dataDiskName,
  nicInput,
  nicName,
  osDiskName,
  providerIdOf,
  vmInput,
  vmNameOf,
} from "./vm-input.ts";
import { volumeIdsOf } from "./volumes.ts";

interface Context {
  readonly spec: AzureProviderSpec;
  readonly arm: ArmPort;
  readonly group: string;
}

/** VM names are the Machine's, lower-cased (Azure resource names are case-insensitive). */
const vmNameOfMachine = (machine: Machine): string => (machine.metadata?.name ?? "").toLowerCase();

/**
 * The Azure driver. A machine is a VM named as the Machine in the providerSpec's resource group,
 * with a NIC `<vm>-nic`, an OS disk `<vm>-os-disk` and data disks `<vm>-<name>-<lun>-data-disk`,
 * all tagged with the class's tags. ARM keeps one resource per name, so a create is idempotent by
 * name and a machine never has two VMs.
 */
export class AzureDriver implements Driver {
  readonly #clients: ArmClients;
  readonly #creates = new KeyedLock();

  constructor(opts: ArmOptions = {}) {
    this.#clients = new ArmClients(opts);
  }

  #context(req: { machineClass: MachineClass; secret: SecretData; signal?: AbortSignal }): Context {
    const spec = parseProviderSpec(req.machineClass.providerSpec);
    const arm = this.#clients
      .get(spec.cloudConfiguration?.name, credentialsOf(req.secret))
      .withSignal(req.signal);
    return { spec, arm, group: spec.resourceGroup };
  }

  async createMachine(req: CreateMachineRequest): Promise<CreateMachineResponse> {
    const ctx = this.#context(req);
    const vm = vmNameOfMachine(req.machine);
    const userData = req.secret[SecretKeys.userData];
    if (!userData || userData.length === 0) {
      throw new MachineError("InvalidArgument", `the MachineClass Secret has no ${SecretKeys.userData}`);
    }
    return this.#creates.run(`${ctx.group}/${vm}`, async () => {
      try {
        const existing = await ctx.arm.getVm(ctx.group, vm);
        if (existing && existing.provisioningState !== "Failed") return await answer(ctx, vm);
        // A VM left Failed by an earlier create is replaced, with what was made for it.
        if (existing) await removeMachine(ctx, vm);
        await makeMachine(ctx, vm, userData);
        return await answer(ctx, vm);
      } catch (err) {
        // A refusal (capacity, quota, a bad parameter) leaves nothing behind: the VM ARM may have
        // made in state Failed, the NIC and the disks go (best effort; deleteMachine finishes).
        // Not after a transient failure: the VM may be fine, and the next create adopts it.
        if (!isTransient(err) && !(err instanceof MachineError)) {
          await removeMachine(ctx, vm).catch(() => undefined);
        }
        throw toMachineError(err, `creating VM ${vm} in resource group ${ctx.group}`);
      }
    });
  }

  initializeMachine(): Promise<InitializeMachineResponse> {
    return Promise.reject(new MachineError("Unimplemented", "nothing to set up after create"));
  }

  async deleteMachine(req: DeleteMachineRequest): Promise<DeleteMachineResponse> {
    const ctx = this.#context(req);
    const vm = vmNameOfMachine(req.machine);
    try {
      // A resource group that is gone took everything in it along.
      if (!(await ctx.arm.resourceGroupExists(ctx.group))) return {};
      await removeMachine(ctx, vm);
      return {};
    } catch (err) {
      throw toMachineError(err, `deleting VM ${vm} in resource group ${ctx.group}`);
    }
  }

  async getMachineStatus(req: GetMachineStatusRequest): Promise<GetMachineStatusResponse> {
    const ctx = this.#context(req);
    const vm = vmNameOfMachine(req.machine);
    const found = await ctx.arm.getVm(ctx.group, vm).catch((err: unknown) => {
      throw toMachineError(err, `looking up VM ${vm} in resource group ${ctx.group}`);
    });
    if (!found) throw new MachineError("NotFound", `VM ${vm} not found in resource group ${ctx.group}`);
    return { providerID: providerIdOf(ctx.spec.location, vm), nodeName: vm };
  }

  async listMachines(req: ListMachinesRequest): Promise<ListMachinesResponse> {
    const ctx = this.#context(req);
    const { cluster, role } = clusterTags(ctx.spec);
    // VMs, and NICs and disks without their VM, so that leftovers of a machine are listed as it.
    const query = [
      "Resources",
      "where type =~ 'microsoft.compute/virtualmachines' or type =~ 'microsoft.network/networkinterfaces' or type =~ 'microsoft.compute/disks'",
      `where resourceGroup =~ '${kql(ctx.group)}'`,
      "extend tagKeys = bag_keys(tags)",
      `where tagKeys has '${kql(cluster)}' and tagKeys has '${kql(role)}'`,
      "project type, name",
    ].join("\n| ");
    try {
      const rows = await ctx.arm.query(query);
      const names = new Set(
        rows.map((r) => vmNameOf(r.type, r.name, ctx.spec)).filter((n) => n !== undefined),
      );
      return { machineList: new Map([...names].map((n) => [providerIdOf(ctx.spec.location, n), n])) };
    } catch (err) {
      throw toMachineError(err, `listing the VMs of resource group ${ctx.group}`);
    }
  }

  getVolumeIDs(req: GetVolumeIDsRequest): Promise<GetVolumeIDsResponse> {
    return Promise.resolve({ volumeIDs: volumeIdsOf(req.pvSpecs) });
  }
}

async function answer(ctx: Context, vm: string): Promise<CreateMachineResponse> {
  const nic = await ctx.arm.getNic(ctx.group, nicName(vm));
  const ip = nic?.ipConfigurations?.[0]?.privateIPAddress;
  return {
    providerID: providerIdOf(ctx.spec.location, vm),
    nodeName: vm,
    addresses: [...(ip ? [{ type: "InternalIP", address: ip }] : []), { type: "Hostname", address: vm }],
  };
}
/** The subnet's NIC, the data disks made from images, and the VM with the NIC and every disk. */
async function makeMachine(ctx: Context, vm: string, userData: Buffer): Promise<void> {
  if (ctx.spec.image.urn) await ctx.arm.getImage(ctx.spec.location, urnParts(ctx.spec.image.urn));
  const { vnetName, subnetName, vnetResourceGroup } = ctx.spec.subnetInfo;
  const subnet = await ctx.arm.getSubnet(vnetResourceGroup ?? ctx.group, vnetName, subnetName);
  if (!subnet?.id) {
    throw new MachineError(
      "NotFound",
      `providerSpec.subnetInfo: subnet ${subnetName} of virtual network ${vnetName} not found`,
    );
  }
  const nic =
    (await ctx.arm.getNic(ctx.group, nicName(vm))) ??
    (await ctx.arm.putNic(ctx.group, nicName(vm), nicInput(ctx.spec, nicName(vm), subnet.id)));
  const imageDisks = new Map<number, string>();
  for (const d of ctx.spec.dataDisks.filter((x) => x.imageRef)) {
    const name = dataDiskName(vm, d);
    const disk =
      (await ctx.arm.getDisk(ctx.group, name)) ??
      (await ctx.arm.putDisk(ctx.group, name, dataDiskInput(ctx.spec, d)));
    imageDisks.set(d.lun, disk.id ?? "");
  }
  await ctx.arm.putVm(ctx.group, vm, vmInput(ctx.spec, vm, nic.id ?? "", imageDisks, userData));
}

/**
 * Deletes the VM (its NIC and disks marked deleteOption Delete go with it), then the NIC and every
 * disk named for the machine that is still there: also when the VM was gone already, or was made
 * without deleteOption, so that nothing of the machine is left.
 */
async function removeMachine(ctx: Context, vm: string): Promise<void> {
  const found: VirtualMachine | undefined = await ctx.arm.getVm(ctx.group, vm);
  if (found) await ctx.arm.deleteVm(ctx.group, vm);
  await ctx.arm.deleteNic(ctx.group, nicName(vm));
  await ctx.arm.deleteDisk(ctx.group, osDiskName(vm));
  for (const d of ctx.spec.dataDisks) await ctx.arm.deleteDisk(ctx.group, dataDiskName(vm, d));
}

function urnParts(urn: string): [string, string, string, string] {
  const [a = "", b = "", c = "", d = ""] = urn.split(":");
  return [a, b, c, d];
}

/** A string literal inside a KQL query: quotes doubled would end it, so they are escaped. */
const kql = (s: string): string => s.replace(/\\/g, "\\\\").replace(/'/g, "\\'");
