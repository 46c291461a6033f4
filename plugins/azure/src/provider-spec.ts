import { MachineError } from "sprout/driver";

/**
 * MachineClass.providerSpec of the Azure provider (Gardener's AzureProviderSpec), with the JSON
 * field names of machine-controller-manager-provider-azure, so its MachineClasses work unchanged.
 * The VM-shaped parts (storage, OS, security profiles) are kept as given and checked field by field.
 */
type Raw = Record<string, unknown>;

export interface ImageReference {
  readonly id?: string;
  readonly urn?: string;
  readonly skipMarketplaceAgreement?: boolean;
  readonly communityGalleryImageID?: string;
  readonly sharedGalleryImageID?: string;
}

export interface DataDisk {
  readonly name?: string;
  readonly lun: number;
  readonly caching?: string;
  readonly storageAccountType: string;
  readonly diskSizeGB: number;
  readonly imageRef?: ImageReference;
}

export interface AzureProviderSpec {
  readonly location: string;
  readonly resourceGroup: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly subnetInfo: {
    readonly vnetName: string;
    readonly vnetResourceGroup?: string;
    readonly subnetName: string;
  };
  readonly cloudConfiguration?: { readonly name: string };
  readonly vmSize: string;
  readonly image: ImageReference;
  readonly diskControllerType?: string;
  readonly osDisk: {
    readonly caching?: string;
    readonly diskSizeGB?: number;
    readonly storageAccountType?: string;
    readonly securityEncryptionType?: string;
  };
  readonly dataDisks: readonly DataDisk[];
  readonly osProfile: {
    readonly adminUsername: string;
    readonly disablePasswordAuthentication: boolean;
    readonly sshPublicKey?: { readonly path: string; readonly keyData: string };
  };
  readonly acceleratedNetworking: boolean;
  readonly availabilitySetID?: string;
  readonly virtualMachineScaleSetID?: string;
  readonly identityID?: string;
  readonly zone?: number;
  readonly securityProfile?: {
    readonly securityType?: string;
    readonly vtpmEnabled?: boolean;
    readonly secureBootEnabled?: boolean;
  };
  readonly diagnostics?: { readonly enabled: boolean; readonly storageURI?: string };
  readonly capacityReservationGroupID?: string;
}

export const CLUSTER_TAG_PREFIX = "kubernetes.io-cluster-";
export const ROLE_TAG_PREFIX = "kubernetes.io-role-";
export const CLOUD_NAMES = ["AzurePublic", "AzureGovernment", "AzureChina"] as const;
const SECURITY_TYPES = ["TrustedLaunch", "ConfidentialVM"];
const ENCRYPTION_TYPES = ["VMGuestStateOnly", "DiskWithVMGuestState"];
const CONTROLLER_TYPES = ["SCSI", "NVMe"];

class Problems {
  readonly list: string[] = [];
  add(field: string, problem: string): void {
    this.list.push(`providerSpec.${field}: ${problem}`);
  }
}

const isObject = (v: unknown): v is Raw => typeof v === "object" && v !== null && !Array.isArray(v);
const obj = (v: unknown): Raw => (isObject(v) ? v : {});

function str(p: Problems, o: Raw, key: string, path: string, required = false): string | undefined {
  const v = o[key];
  if (v === undefined || v === null || v === "") {
    if (required) p.add(path, "required");
    return undefined;
  }
  if (typeof v !== "string") {
    p.add(path, "must be a string");
    return undefined;
  }
  return v;
}

function int(p: Problems, o: Raw, key: string, path: string, min: number): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min) {
    p.add(path, `must be an integer of at least ${min}`);
    return undefined;
  }
  return v;
}

function oneOf(p: Problems, value: string | undefined, allowed: readonly string[], path: string): void {
  if (value !== undefined && !allowed.includes(value)) p.add(path, `must be one of ${allowed.join(", ")}`);
}

function image(p: Problems, raw: unknown, path: string): ImageReference {
  const o = obj(raw);
  const ref: ImageReference = {
    ...opt("id", str(p, o, "id", `${path}.id`)),
    ...opt("urn", str(p, o, "urn", `${path}.urn`)),
    ...opt(
      "communityGalleryImageID",
      str(p, o, "communityGalleryImageID", `${path}.communityGalleryImageID`),
    ),
    ...opt("sharedGalleryImageID", str(p, o, "sharedGalleryImageID", `${path}.sharedGalleryImageID`)),
    ...(o.skipMarketplaceAgreement === true ? { skipMarketplaceAgreement: true } : {}),
  };
  const set = [ref.id, ref.urn, ref.communityGalleryImageID, ref.sharedGalleryImageID].filter((v) => v);
  if (set.length !== 1) {
    p.add(path, "exactly one of id, urn, communityGalleryImageID and sharedGalleryImageID is required");
  }
  if (ref.urn !== undefined) {
    const parts = ref.urn.split(":");
    if (parts.length !== 4 || parts.some((x) => x === "")) {
      p.add(`${path}.urn`, "must be publisher:offer:sku:version");
    }
  }
  return ref;
}

const opt = <K extends string, V>(k: K, v: V | undefined): { [P in K]?: V } =>
  (v === undefined ? {} : { [k]: v }) as { [P in K]?: V };

function storageOf(p: Problems, storage: Raw) {
  const sp = "properties.storageProfile";
  const diskControllerType = str(p, storage, "diskControllerType", `${sp}.diskControllerType`);
  oneOf(p, diskControllerType, CONTROLLER_TYPES, `${sp}.diskControllerType`);
  const os = obj(storage.osDisk);
  const managed = obj(os.managedDisk);
  const encryptionPath = `${sp}.osDisk.managedDisk.securityProfile.securityEncryptionType`;
  const securityEncryptionType = str(
    p,
    obj(managed.securityProfile),
    "securityEncryptionType",
    encryptionPath,
  );
  oneOf(p, securityEncryptionType, ENCRYPTION_TYPES, encryptionPath);
  return {
    image: image(p, storage.imageReference, `${sp}.imageReference`),
    ...opt("diskControllerType", diskControllerType),
    osDisk: {
      ...opt("caching", str(p, os, "caching", `${sp}.osDisk.caching`)),
      ...opt("diskSizeGB", int(p, os, "diskSizeGB", `${sp}.osDisk.diskSizeGB`, 1)),
      ...opt(
        "storageAccountType",
        str(p, managed, "storageAccountType", `${sp}.osDisk.managedDisk.storageAccountType`),
      ),
      ...opt("securityEncryptionType", securityEncryptionType),
    },
    dataDisks: dataDisksOf(p, storage.dataDisks, `${sp}.dataDisks`),
  };
}

function dataDisksOf(p: Problems, raw: unknown, path: string): DataDisk[] {
  if (raw !== undefined && !Array.isArray(raw)) p.add(path, "must be a list");
  const luns = new Set<number>();
  return (Array.isArray(raw) ? (raw as unknown[]) : []).map((d, i): DataDisk => {
    const o = obj(d);
    const at = `${path}[${i}]`;
    const lun = int(p, o, "lun", `${at}.lun`, 0);
    if (o.lun === undefined) p.add(`${at}.lun`, "required");
    if (lun !== undefined && luns.has(lun)) p.add(`${at}.lun`, `lun ${lun} is used twice`);
    if (lun !== undefined) luns.add(lun);
    const size = int(p, o, "diskSizeGB", `${at}.diskSizeGB`, 1);
    if (o.diskSizeGB === undefined) p.add(`${at}.diskSizeGB`, "required");
    return {
      ...opt("name", str(p, o, "name", `${at}.name`)),
      lun: lun ?? 0,
      ...opt("caching", str(p, o, "caching", `${at}.caching`)),
      storageAccountType: str(p, o, "storageAccountType", `${at}.storageAccountType`, true) ?? "",
      diskSizeGB: size ?? 0,
      ...(o.imageRef === undefined ? {} : { imageRef: image(p, o.imageRef, `${at}.imageRef`) }),
    };
  });
}

function osProfileOf(p: Problems, osProfile: Raw): AzureProviderSpec["osProfile"] {
  const linux = obj(osProfile.linuxConfiguration);
  const keys = obj(obj(linux.ssh).publicKeys);
  const at = "properties.osProfile.linuxConfiguration.ssh.publicKeys";
  const keyData = str(p, keys, "keyData", `${at}.keyData`);
  const keyPath = str(p, keys, "path", `${at}.path`);
  return {
    adminUsername: str(p, osProfile, "adminUsername", "properties.osProfile.adminUsername", true) ?? "",
    disablePasswordAuthentication: linux.disablePasswordAuthentication !== false,
    ...(keyData ? { sshPublicKey: { keyData, path: keyPath ?? "/home/core/.ssh/authorized_keys" } } : {}),
  };
}

const sub = (p: Problems, v: unknown, path: string): string | undefined =>
  isObject(v) ? str(p, v, "id", `${path}.id`, true) : undefined;

/** Zone, availability set, scale set, identity, security, diagnostics and capacity reservation. */
function placementOf(p: Problems, props: Raw) {
  const zone = int(p, props, "zone", "properties.zone", 1);
  const availabilitySetID = sub(p, props.availabilitySet, "properties.availabilitySet");
  const virtualMachineScaleSetID = sub(p, props.virtualMachineScaleSet, "properties.virtualMachineScaleSet");
  if ([zone, availabilitySetID, virtualMachineScaleSetID].filter((v) => v !== undefined).length > 1) {
    p.add("properties", "only one of zone, availabilitySet and virtualMachineScaleSet may be set");
  }
  const diag = isObject(props.diagnosticsProfile) ? props.diagnosticsProfile : undefined;
  const capacityPath = "properties.capacityReservation.capacityReservationGroupID";
  const capacityGroup = str(p, obj(props.capacityReservation), "capacityReservationGroupID", capacityPath);
  if (capacityGroup !== undefined && !CAPACITY_GROUP.test(capacityGroup)) {
    p.add(capacityPath, "must be a capacity reservation group's resource ID");
  }
  return {
    ...opt("zone", zone),
    ...opt("availabilitySetID", availabilitySetID),
    ...opt("virtualMachineScaleSetID", virtualMachineScaleSetID),
    ...opt("identityID", str(p, props, "identityID", "properties.identityID")),
    ...opt("securityProfile", securityOf(p, props.securityProfile)),
    ...(diag
      ? {
          diagnostics: {
            enabled: diag.enabled === true,
            ...opt("storageURI", str(p, diag, "storageURI", "properties.diagnosticsProfile.storageURI")),
          },
        }
      : {}),
    ...opt("capacityReservationGroupID", capacityGroup),
  };
}

const CAPACITY_GROUP =
  /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Compute\/capacityReservationGroups\/[^/]+$/i;

function securityOf(p: Problems, raw: unknown): AzureProviderSpec["securityProfile"] {
  if (!isObject(raw)) return undefined;
  const securityType = str(p, raw, "securityType", "properties.securityProfile.securityType");
  oneOf(p, securityType, SECURITY_TYPES, "properties.securityProfile.securityType");
  const uefi = obj(raw.uefiSettings);
  return {
    ...opt("securityType", securityType),
    ...(typeof uefi.vtpmEnabled === "boolean" ? { vtpmEnabled: uefi.vtpmEnabled } : {}),
    ...(typeof uefi.secureBootEnabled === "boolean" ? { secureBootEnabled: uefi.secureBootEnabled } : {}),
  };
}

function tagsOf(p: Problems, raw: unknown): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj(raw))) {
    if (typeof v === "string") tags[k] = v;
    else p.add(`tags.${k}`, "must be a string");
  }
  for (const prefix of [CLUSTER_TAG_PREFIX, ROLE_TAG_PREFIX]) {
    if (!Object.keys(tags).some((k) => k.startsWith(prefix))) {
      p.add("tags", `a tag whose key starts with ${prefix} is required`);
    }
  }
  return tags;
}

/** Parses and validates providerSpec; InvalidArgument listing every problem, each naming its field. */
export function parseProviderSpec(raw: unknown): AzureProviderSpec {
  const p = new Problems();
  const spec = obj(raw);
  if (!isObject(raw)) p.add("", "must be an object");
  const subnet = obj(spec.subnetInfo);
  const cloud = isObject(spec.cloudConfiguration)
    ? str(p, spec.cloudConfiguration, "name", "cloudConfiguration.name", true)
    : undefined;
  oneOf(p, cloud, CLOUD_NAMES, "cloudConfiguration.name");
  const props = obj(spec.properties);
  const parsed: AzureProviderSpec = {
    location: str(p, spec, "location", "location", true) ?? "",
    resourceGroup: str(p, spec, "resourceGroup", "resourceGroup", true) ?? "",
    tags: tagsOf(p, spec.tags),
    subnetInfo: {
      vnetName: str(p, subnet, "vnetName", "subnetInfo.vnetName", true) ?? "",
      ...opt("vnetResourceGroup", str(p, subnet, "vnetResourceGroup", "subnetInfo.vnetResourceGroup")),
      subnetName: str(p, subnet, "subnetName", "subnetInfo.subnetName", true) ?? "",
    },
    ...(cloud ? { cloudConfiguration: { name: cloud } } : {}),
    vmSize: str(p, obj(props.hardwareProfile), "vmSize", "properties.hardwareProfile.vmSize", true) ?? "",
    ...storageOf(p, obj(props.storageProfile)),
    osProfile: osProfileOf(p, obj(props.osProfile)),
    acceleratedNetworking: obj(props.networkProfile).acceleratedNetworking === true,
    ...placementOf(p, props),
  };
  if (p.list.length > 0) throw new MachineError("InvalidArgument", p.list.join("; "));
  return parsed;
}

/** The cluster's and the role's tag keys: what marks the cluster's VMs, NICs and disks. */
export function clusterTags(spec: AzureProviderSpec): { cluster: string; role: string } {
  const keys = Object.keys(spec.tags);
  return {
    cluster: keys.find((k) => k.startsWith(CLUSTER_TAG_PREFIX)) ?? "",
    role: keys.find((k) => k.startsWith(ROLE_TAG_PREFIX)) ?? "",
  };
}
