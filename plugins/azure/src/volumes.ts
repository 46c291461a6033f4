import type { PersistentVolumeSpec } from "sprout/driver";

/** The Azure Disk CSI driver's name in PersistentVolume specs. */
export const AZURE_DISK_CSI_DRIVER = "disk.csi.azure.com";

/** Azure disk names among PV specs: Azure Disk CSI volumes and in-tree azureDisk ones; others are left out. */
export function volumeIdsOf(pvSpecs: readonly PersistentVolumeSpec[]): string[] {
  return pvSpecs.flatMap((spec) => {
    const csi = spec.csi as { driver?: unknown; volumeHandle?: unknown } | undefined;
    if (csi?.driver === AZURE_DISK_CSI_DRIVER && typeof csi.volumeHandle === "string" && csi.volumeHandle) {
      return [csi.volumeHandle];
    }
    const disk = spec.azureDisk as { diskName?: unknown } | undefined;
    return typeof disk?.diskName === "string" && disk.diskName ? [disk.diskName] : [];
  });
}
