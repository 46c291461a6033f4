import type { Disk, ImageReference as SdkImageReference, VirtualMachine } from "@azure/arm-compute";
import type { NetworkInterface } from "@azure/arm-network";
import type { AzureProviderSpec, DataDisk, ImageReference } from "./provider-spec.ts";

/**
 * The names and request bodies of what a machine is made of, as Gardener's Azure provider makes
 * them, so that VMs, NICs and disks of machines it made are found and cleaned by the same names.
 */
export const NIC_SUFFIX = "-nic";
export const OS_DISK_SUFFIX = "-os-disk";
export const DATA_DISK_SUFFIX = "-data-disk";
export const PROVIDER_ID_SCHEME = "azure://";

export const nicName = (vm: string): string => `${vm}${NIC_SUFFIX}`;
export const osDiskName = (vm: string): string => `${vm}${OS_DISK_SUFFIX}`;
/** `<vm>-<name>-<lun>-data-disk`, or `<vm>-<lun>-data-disk` for a disk without a name. */
export const dataDiskSuffix = (d: DataDisk): string =>
  `${d.name ? `-${d.name}` : ""}-${d.lun}${DATA_DISK_SUFFIX}`;
export const dataDiskName = (vm: string, d: DataDisk): string => `${vm}${dataDiskSuffix(d)}`;
export const providerIdOf = (location: string, vm: string): string =>
  `${PROVIDER_ID_SCHEME}/${location}/${vm}`;

/** The VM name a VM's, NIC's or disk's name belongs to, or undefined for a name of another kind. */
export function vmNameOf(type: string, name: string, spec: AzureProviderSpec): string | undefined {
  const t = type.toLowerCase();
  if (t === "microsoft.compute/virtualmachines") return name;
  if (t === "microsoft.network/networkinterfaces" && name.endsWith(NIC_SUFFIX)) {
    return name.slice(0, -NIC_SUFFIX.length);
  }
  if (t !== "microsoft.compute/disks") return undefined;
  if (name.endsWith(OS_DISK_SUFFIX)) return name.slice(0, -OS_DISK_SUFFIX.length);
  const suffix = spec.dataDisks.map(dataDiskSuffix).find((s) => name.endsWith(s));
  return suffix ? name.slice(0, -suffix.length) : undefined;
}

function sdkImage(ref: ImageReference): SdkImageReference {
  if (ref.urn) {
    const [publisher, offer, sku, version] = ref.urn.split(":");
    return { publisher, offer, sku, version } as SdkImageReference;
  }
  if (ref.communityGalleryImageID) return { communityGalleryImageId: ref.communityGalleryImageID };
  if (ref.sharedGalleryImageID) return { sharedGalleryImageId: ref.sharedGalleryImageID };
  return { id: ref.id ?? "" };
}

export function nicInput(spec: AzureProviderSpec, name: string, subnetId: string): NetworkInterface {
  return {
    location: spec.location,
    tags: { ...spec.tags },
    enableIPForwarding: true,
    enableAcceleratedNetworking: spec.acceleratedNetworking,
    ipConfigurations: [
      { name, subnet: { id: subnetId }, privateIPAllocationMethod: "Dynamic", primary: true },
    ],
  };
}

export function dataDiskInput(spec: AzureProviderSpec, d: DataDisk): Disk {
  const ref = d.imageRef ?? {};
  return {
    location: spec.location,
    tags: { ...spec.tags },
    ...(spec.zone !== undefined ? { zones: [String(spec.zone)] } : {}),
    sku: { name: d.storageAccountType },
    diskSizeGB: d.diskSizeGB,
    creationData: ref.id
      ? { createOption: "FromImage", imageReference: { id: ref.id } }
      : ref.sharedGalleryImageID
        ? {
            createOption: "FromImage",
            galleryImageReference: { sharedGalleryImageId: ref.sharedGalleryImageID },
          }
        : ref.communityGalleryImageID
          ? {
              createOption: "FromImage",
              galleryImageReference: { communityGalleryImageId: ref.communityGalleryImageID },
            }
          : { createOption: "Empty" },
  };
}

/** The VM: the NIC primary and every disk deleted with it, user data as customData. */
export function vmInput(
  spec: AzureProviderSpec,
  vm: string,
  nicId: string,
  imageDiskIds: ReadonlyMap<number, string>,
  userData: Buffer,
): VirtualMachine {
  const ssh = spec.osProfile.sshPublicKey;
  return {
    location: spec.location,
    tags: { ...spec.tags },
    ...(spec.zone !== undefined ? { zones: [String(spec.zone)] } : {}),
    ...(spec.identityID
      ? { identity: { type: "UserAssigned", userAssignedIdentities: { [spec.identityID]: {} } } }
      : {}),
    hardwareProfile: { vmSize: spec.vmSize },
    storageProfile: {
      imageReference: sdkImage(spec.image),
      ...(spec.diskControllerType ? { diskControllerType: spec.diskControllerType } : {}),
      osDisk: {
        name: osDiskName(vm),
        createOption: "FromImage",
        deleteOption: "Delete",
        ...(spec.osDisk.caching ? { caching: spec.osDisk.caching } : {}),
        ...(spec.osDisk.diskSizeGB ? { diskSizeGB: spec.osDisk.diskSizeGB } : {}),
        managedDisk: {
          ...(spec.osDisk.storageAccountType ? { storageAccountType: spec.osDisk.storageAccountType } : {}),
          ...(spec.osDisk.securityEncryptionType
            ? { securityProfile: { securityEncryptionType: spec.osDisk.securityEncryptionType } }
            : {}),
        },
      },
      dataDisks: spec.dataDisks.map((d) => {
        const attached = imageDiskIds.get(d.lun);
        return {
          lun: d.lun,
          name: dataDiskName(vm, d),
          deleteOption: "Delete",
          ...(d.caching ? { caching: d.caching } : {}),
          ...(attached
            ? { createOption: "Attach", managedDisk: { id: attached } }
            : {
                createOption: "Empty",
                diskSizeGB: d.diskSizeGB,
                managedDisk: { storageAccountType: d.storageAccountType },
              }),
        };
      }),
    },
    osProfile: {
      computerName: vm,
      adminUsername: spec.osProfile.adminUsername,
      customData: userData.toString("base64"),
      linuxConfiguration: {
        disablePasswordAuthentication: spec.osProfile.disablePasswordAuthentication,
        ...(ssh ? { ssh: { publicKeys: [{ path: ssh.path, keyData: ssh.keyData }] } } : {}),
      },
    },
    networkProfile: { networkInterfaces: [{ id: nicId, primary: true, deleteOption: "Delete" }] },
    ...extrasOf(spec),
  } as VirtualMachine;
}

/** Availability set, scale set, security profile, boot diagnostics and capacity reservation. */
function extrasOf(spec: AzureProviderSpec): Partial<VirtualMachine> {
  const security = spec.securityProfile;
  const diagnostics = spec.diagnostics;
  return {
    ...(spec.availabilitySetID ? { availabilitySet: { id: spec.availabilitySetID } } : {}),
    ...(spec.virtualMachineScaleSetID
      ? { virtualMachineScaleSet: { id: spec.virtualMachineScaleSetID } }
      : {}),
    ...(security
      ? {
          securityProfile: {
            ...(security.securityType ? { securityType: security.securityType } : {}),
            uefiSettings: {
              ...(security.vtpmEnabled !== undefined ? { vTpmEnabled: security.vtpmEnabled } : {}),
              ...(security.secureBootEnabled !== undefined
                ? { secureBootEnabled: security.secureBootEnabled }
                : {}),
            },
          },
        }
      : {}),
    ...(diagnostics
      ? {
          diagnosticsProfile: {
            bootDiagnostics: {
              enabled: diagnostics.enabled,
              ...(diagnostics.storageURI ? { storageUri: diagnostics.storageURI } : {}),
            },
          },
        }
      : {}),
    ...(spec.capacityReservationGroupID
      ? { capacityReservation: { capacityReservationGroup: { id: spec.capacityReservationGroupID } } }
      : {}),
  };
}
