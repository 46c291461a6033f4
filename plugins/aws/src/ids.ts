import type { PersistentVolumeSpec } from "sprout/driver";

/** providerIDs are aws:///<availability zone>/<instance id>, as the AWS cloud-controller-manager writes them. */
export const PROVIDER_ID_SCHEME = "aws://";
/** The EBS CSI driver's name in PersistentVolume specs. */
export const EBS_CSI_DRIVER = "ebs.csi.aws.com";

const INSTANCE_ID = /^i-[0-9a-f]+$/;
const VOLUME_ID = /^vol-[0-9a-f]+$/;

export const providerIdOf = (zone: string, instanceId: string): string =>
  `${PROVIDER_ID_SCHEME}/${zone}/${instanceId}`;

/**
 * The instance ID of an AWS providerID, or undefined when it is none. The last path segment
 * counts, so Gardener's aws:///<region>/<id> form is read too.
 */
export function instanceIdOf(providerID: string | undefined): string | undefined {
  if (!providerID?.startsWith(PROVIDER_ID_SCHEME)) return undefined;
  const id = providerID.split("/").pop() ?? "";
  return INSTANCE_ID.test(id) ? id : undefined;
}

/** An EBS volume ID from an in-tree volumeID: vol-…, or aws://<zone>/vol-…; undefined otherwise. */
export function ebsVolumeIdOf(volumeID: string): string | undefined {
  const id = volumeID.startsWith(PROVIDER_ID_SCHEME) ? (volumeID.split("/").pop() ?? "") : volumeID;
  return VOLUME_ID.test(id) ? id : undefined;
}

/** EBS volume IDs among PV specs: EBS CSI volumes and in-tree awsElasticBlockStore ones; others are left out. */
export function volumeIdsOf(pvSpecs: readonly PersistentVolumeSpec[]): string[] {
  return pvSpecs.flatMap((spec) => {
    const csi = spec.csi as { driver?: unknown; volumeHandle?: unknown } | undefined;
    if (csi?.driver === EBS_CSI_DRIVER && typeof csi.volumeHandle === "string" && csi.volumeHandle) {
      return [csi.volumeHandle];
    }
    const ebs = spec.awsElasticBlockStore as { volumeID?: unknown } | undefined;
    const id = typeof ebs?.volumeID === "string" ? ebsVolumeIdOf(ebs.volumeID) : undefined;
    return id ? [id] : [];
  });
}
