import { randomUUID } from "node:crypto";

/**
 * The in-memory state of the loopback ARM server: resource groups, virtual networks with subnets,
 * network interfaces, managed disks and virtual machines of one subscription, with ARM's rules for
 * what may be deleted while in use and what goes with a VM (deleteOption). Names are matched
 * without regard to case, as ARM does.
 */
export type Json = Record<string, unknown>;

export interface ArmResource {
  readonly id: string;
  readonly name: string;
  /** e.g. Microsoft.Compute/virtualMachines */
  readonly type: string;
  readonly resourceGroup: string;
  location: string;
  tags: Record<string, string>;
  zones?: string[];
  properties: Json;
}

/** A VM as the simulated machine itself sees it (IMDS): its custom data is not part of the ARM view. */
export interface WorldVm {
  readonly resource: ArmResource;
  readonly customData: string;
  readonly version: number;
  readonly deleted: boolean;
}

export const VM_TYPE = "Microsoft.Compute/virtualMachines";
export const NIC_TYPE = "Microsoft.Network/networkInterfaces";
export const DISK_TYPE = "Microsoft.Compute/disks";
export const SUBNET_TYPE = "Microsoft.Network/virtualNetworks/subnets";

/** An ARM error answer: status and {"error":{"code","message"}}. */
export class ArmError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const key = (id: string): string => id.toLowerCase();
/** A string field of a request body (numbers written out), or `fallback`. */
const str = (v: unknown, fallback = ""): string =>
  typeof v === "string" ? v : typeof v === "number" ? String(v) : fallback;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

export class ArmWorld {
  readonly subscription: string;
  readonly #groups = new Map<string, string>();
  readonly #resources = new Map<string, ArmResource>();
  readonly #customData = new Map<string, string>();
  readonly #vmVersions = new Map<string, WorldVm>();
  #version = 0;
  #ip = 4;
  #waiters: (() => void)[] = [];

  constructor(subscription: string = randomUUID()) {
    this.subscription = subscription;
  }

  idOf(group: string, type: string, name: string): string {
    const [ns, ...kinds] = type.split("/");
    const rest =
      kinds.length === 2
        ? `${kinds[0]}/${name.split("/")[0]}/${kinds[1]}/${name.split("/")[1]}`
        : `${kinds[0]}/${name}`;
    return `/subscriptions/${this.subscription}/resourceGroups/${this.#groups.get(key(group)) ?? group}/providers/${ns}/${rest}`;
  }

  addResourceGroup(name: string): void {
    this.#groups.set(key(name), name);
  }

  hasResourceGroup(name: string): boolean {
    return this.#groups.has(key(name));
  }

  deleteResourceGroup(name: string): void {
    this.#groups.delete(key(name));
    for (const r of [...this.#resources.values()]) {
      if (key(r.resourceGroup) === key(name)) this.#remove(r);
    }
  }

  addSubnet(group: string, vnet: string, subnet: string, prefix = "10.250.0.0/16"): ArmResource {
    this.addResourceGroup(group);
    return this.#put({
      id: this.idOf(group, SUBNET_TYPE, `${vnet}/${subnet}`),
      name: subnet,
      type: SUBNET_TYPE,
      resourceGroup: group,
      location: "",
      tags: {},
      properties: { addressPrefix: prefix, provisioningState: "Succeeded" },
    });
  }

  get(id: string): ArmResource | undefined {
    return this.#resources.get(key(id));
  }

  /** Every resource of one type (optionally of one group), in creation order. */
  all(type?: string, group?: string): ArmResource[] {
    return [...this.#resources.values()].filter(
      (r) =>
        (type === undefined || key(r.type) === key(type)) &&
        (group === undefined || key(r.resourceGroup) === key(group)),
    );
  }

  #requireGroup(group: string): void {
    if (!this.hasResourceGroup(group)) {
      throw new ArmError(404, "ResourceGroupNotFound", `Resource group '${group}' could not be found.`);
    }
  }

  #put(r: ArmResource): ArmResource {
    this.#resources.set(key(r.id), r);
    return r;
  }

  #remove(r: ArmResource): void {
    this.#resources.delete(key(r.id));
    if (r.type === VM_TYPE) this.#touchVm(r, true);
  }

  #touchVm(r: ArmResource, deleted = false): void {
    this.#vmVersions.set(key(r.id), {
      resource: r,
      customData: this.#customData.get(key(r.id)) ?? "",
      version: ++this.#version,
      deleted,
    });
    for (const wake of this.#waiters.splice(0)) wake();
  }

  /** VMs made, changed or deleted after `since`, as the machines themselves see them. */
  vmChanges(since: number): { version: number; vms: WorldVm[] } {
    return { version: this.#version, vms: [...this.#vmVersions.values()].filter((v) => v.version > since) };
  }

  /** Resolves at the next VM change (or when `signal` aborts). */
  nextVmChange(signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      this.#waiters.push(resolve);
      signal?.addEventListener("abort", () => resolve(), { once: true });
    });
  }

  putNic(group: string, name: string, body: Json): { resource: ArmResource; created: boolean } {
    this.#requireGroup(group);
    const props = isObject(body.properties) ? body.properties : {};
    const configs = Array.isArray(props.ipConfigurations) ? (props.ipConfigurations as Json[]) : [];
    const subnetId = ((configs[0]?.properties as Json | undefined)?.subnet as Json | undefined)?.id;
    if (typeof subnetId !== "string" || !this.get(subnetId)) {
      throw new ArmError(
        400,
        "InvalidResourceReference",
        `Resource ${str(subnetId)} referenced by resource ${name} was not found.`,
      );
    }
    const id = this.idOf(group, NIC_TYPE, name);
    const existing = this.get(id);
    const ip = existing ? undefined : `10.250.${Math.floor(this.#ip / 250)}.${(this.#ip++ % 250) + 4}`;
    const ipConfigurations = configs.map((c, i) => ({
      ...c,
      id: `${id}/ipConfigurations/${str(c.name, `ipconfig${i}`)}`,
      properties: {
        ...(c.properties as Json),
        privateIPAddress:
          ((existing?.properties.ipConfigurations as Json[] | undefined)?.[i]?.properties as Json | undefined)
            ?.privateIPAddress ?? ip,
        privateIPAllocationMethod: "Dynamic",
        provisioningState: "Succeeded",
      },
    }));
    const resource = this.#put({
      id,
      name,
      type: NIC_TYPE,
      resourceGroup: group,
      location: str(body.location),
      tags: (body.tags as Record<string, string> | undefined) ?? {},
      properties: {
        ...props,
        ipConfigurations,
        ...(existing?.properties.virtualMachine
          ? { virtualMachine: existing.properties.virtualMachine }
          : {}),
        resourceGuid: existing?.properties.resourceGuid ?? randomUUID(),
        provisioningState: "Succeeded",
      },
    });
    return { resource, created: !existing };
  }

  putDisk(
    group: string,
    name: string,
    body: Json,
    managedBy?: string,
  ): { resource: ArmResource; created: boolean } {
    this.#requireGroup(group);
    const id = this.idOf(group, DISK_TYPE, name);
    const existing = this.get(id);
    const props = isObject(body.properties) ? body.properties : {};
    const resource = this.#put({
      id,
      name,
      type: DISK_TYPE,
      resourceGroup: group,
      location: str(body.location, existing?.location),
      tags: (body.tags as Record<string, string> | undefined) ?? existing?.tags ?? {},
      ...(Array.isArray(body.zones) ? { zones: body.zones as string[] } : {}),
      properties: {
        ...existing?.properties,
        ...props,
        diskState: managedBy ? "Attached" : "Unattached",
        provisioningState: "Succeeded",
      },
    });
    const holder = managedBy ?? (existing as { managedBy?: string } | undefined)?.managedBy;
    if (holder) (resource as { managedBy?: string }).managedBy = holder;
    return { resource, created: !existing };
  }

  /**
   * Creates (or updates) a VM: its NICs must exist and be free, its OS disk and empty data disks are
   * made as managed disks attached to it, attached data disks must exist. `failed` makes it in
   * provisioningState Failed (an allocation that did not succeed), with its disks made all the same.
   */
  putVm(
    group: string,
    name: string,
    body: Json,
    failed = false,
  ): { resource: ArmResource; created: boolean } {
    this.#requireGroup(group);
    const id = this.idOf(group, VM_TYPE, name);
    const existing = this.get(id);
    const props = isObject(body.properties) ? structuredClone(body.properties) : {};
    const nics = nicRefs(props);
    this.#checkNics(id, nics);
    const location = str(body.location, existing?.location);
    const zones = Array.isArray(body.zones) ? (body.zones as string[]) : undefined;
    this.#vmDisks(group, name, id, (props.storageProfile as Json | undefined) ?? {}, {
      location,
      ...(zones ? { zones } : {}),
    });
    for (const ref of nics) {
      const nic = this.get(str(ref.id));
      if (nic) nic.properties.virtualMachine = { id };
    }
    const resource = this.#put({
      id,
      name,
      type: VM_TYPE,
      resourceGroup: group,
      location,
      tags: (body.tags as Record<string, string> | undefined) ?? {},
      ...(zones ? { zones } : {}),
      properties: {
        ...props,
        osProfile: withoutSecrets(props.osProfile),
        vmId: str(existing?.properties.vmId, randomUUID()),
        timeCreated: str(existing?.properties.timeCreated, new Date().toISOString()),
        provisioningState: failed ? "Failed" : "Succeeded",
      },
    });
    this.#customData.set(key(id), str((props.osProfile as Json | undefined)?.customData));
    this.#touchVm(resource);
    return { resource, created: !existing };
  }

  /** The OS disk and the data disks of a VM, made (or attached) as managed disks it holds. */
  #vmDisks(group: string, name: string, id: string, storage: Json, where: Json): void {
    const osDisk = (storage.osDisk as Json | undefined) ?? {};
    const made = this.putDisk(
      group,
      str(osDisk.name, `${name}_OsDisk_1`),
      { ...where, properties: { diskSizeGB: osDisk.diskSizeGB ?? 30, osType: "Linux" } },
      id,
    );
    osDisk.managedDisk = { ...(osDisk.managedDisk as Json | undefined), id: made.resource.id };
    osDisk.name = made.resource.name;
    storage.osDisk = osDisk;
    for (const d of (storage.dataDisks as Json[] | undefined) ?? [])
      this.#dataDisk(group, name, id, d, where);
  }

  #dataDisk(group: string, name: string, id: string, d: Json, where: Json): void {
    const managed = (d.managedDisk as Json | undefined) ?? {};
    if (d.createOption === "Attach") {
      const disk = this.get(str(managed.id));
      if (!disk) throw new ArmError(404, "NotFound", `Disk ${str(managed.id)} not found.`);
      this.putDisk(group, disk.name, {}, id);
      d.name = disk.name;
    } else {
      const made = this.putDisk(
        group,
        str(d.name, `${name}_disk${str(d.lun)}`),
        { ...where, properties: { diskSizeGB: d.diskSizeGB } },
        id,
      );
      d.managedDisk = { ...managed, id: made.resource.id };
      d.name = made.resource.name;
    }
  }

  #checkNics(vmId: string, nics: readonly Json[]): void {
    for (const ref of nics) {
      const nic = this.get(str(ref.id));
      if (!nic) throw new ArmError(400, "NotFound", `Resource ${str(ref.id)} not found.`);
      const holder = str((nic.properties.virtualMachine as Json | undefined)?.id);
      if (holder && key(holder) !== key(vmId)) {
        throw new ArmError(400, "NicInUse", `Network interface ${nic.id} is used by existing VM ${holder}.`);
      }
    }
  }

  /** PATCH: properties merged one level deep (networkProfile, storageProfile replaced whole), tags replaced. */
  patchVm(group: string, name: string, body: Json): ArmResource {
    const vm = this.get(this.idOf(group, VM_TYPE, name));
    if (!vm) throw notFound(VM_TYPE, group, name);
    if (isObject(body.tags)) vm.tags = body.tags as Record<string, string>;
    if (isObject(body.properties)) {
      for (const [k, v] of Object.entries(body.properties)) {
        vm.properties[k] = isObject(v) && isObject(vm.properties[k]) ? { ...vm.properties[k], ...v } : v;
      }
    }
    this.#touchVm(vm);
    return vm;
  }

  /** Deletes a VM: NICs and disks with deleteOption Delete go with it, the others are detached. */
  deleteVm(group: string, name: string, opts: { cascade: boolean } = { cascade: true }): boolean {
    const vm = this.get(this.idOf(group, VM_TYPE, name));
    if (!vm) return false;
    this.#remove(vm);
    this.#releaseDisks(vm, opts.cascade);
    this.#releaseNics(vm, opts.cascade);
    return true;
  }

  #releaseDisks(vm: ArmResource, cascade: boolean): void {
    const storage = (vm.properties.storageProfile as Json | undefined) ?? {};
    const disks = [storage.osDisk as Json | undefined, ...((storage.dataDisks as Json[] | undefined) ?? [])];
    for (const d of disks) {
      const disk = this.get(str((d?.managedDisk as Json | undefined)?.id));
      if (!disk) continue;
      if (cascade && d?.deleteOption === "Delete") this.#remove(disk);
      else {
        delete (disk as { managedBy?: string }).managedBy;
        disk.properties.diskState = "Unattached";
      }
    }
  }

  #releaseNics(vm: ArmResource, cascade: boolean): void {
    const refs = (vm.properties.networkProfile as Json | undefined)?.networkInterfaces;
    for (const ref of Array.isArray(refs) ? (refs as Json[]) : []) {
      const nic = this.get(str(ref.id));
      if (!nic) continue;
      if (cascade && (ref.properties as Json | undefined)?.deleteOption === "Delete") this.#remove(nic);
      else delete nic.properties.virtualMachine;
    }
  }

  deleteNic(group: string, name: string): boolean {
    const nic = this.get(this.idOf(group, NIC_TYPE, name));
    if (!nic) return false;
    const holder = (nic.properties.virtualMachine as Json | undefined)?.id;
    if (holder && this.get(str(holder))) {
      throw new ArmError(
        400,
        "NicInUse",
        `Network Interface ${nic.id} is used by existing resource ${str(holder)}.`,
      );
    }
    this.#remove(nic);
    return true;
  }

  deleteDisk(group: string, name: string): boolean {
    const disk = this.get(this.idOf(group, DISK_TYPE, name));
    if (!disk) return false;
    const holder = (disk as { managedBy?: string }).managedBy;
    if (holder && this.get(holder)) {
      throw new ArmError(409, "OperationNotAllowed", `Disk ${disk.name} is attached to VM ${holder}.`);
    }
    this.#remove(disk);
    return true;
  }
}

/** The NIC references of a VM body; a VM needs at least one. */
function nicRefs(props: Json): Json[] {
  const network = (props.networkProfile as Json | undefined)?.networkInterfaces;
  const nics = Array.isArray(network) ? (network as Json[]) : [];
  if (nics.length === 0) {
    throw new ArmError(400, "InvalidParameter", "Required parameter 'networkProfile' is missing (null).");
  }
  return nics;
}

/** ARM never returns custom data or the admin password. */
function withoutSecrets(osProfile: unknown): Json | undefined {
  if (!isObject(osProfile)) return undefined;
  const rest = { ...osProfile };
  delete rest.customData;
  delete rest.adminPassword;
  return rest;
}

export function notFound(type: string, group: string, name: string): ArmError {
  return new ArmError(
    404,
    "ResourceNotFound",
    `The Resource '${type}/${name}' under resource group '${group}' was not found.`,
  );
}
