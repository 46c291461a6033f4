import { MachineError } from "sprout/driver";

/**
 * MachineClass.providerSpec of the AWS provider, with the JSON field names of Gardener's
 * machine-controller-manager-provider-aws, so its MachineClasses work unchanged.
 */
export interface AwsProviderSpec {
  readonly ami: string;
  readonly region: string;
  readonly machineType: string;
  /** Instance profile: exactly one of name and arn. */
  readonly iam: { readonly name?: string; readonly arn?: string };
  readonly keyName?: string;
  readonly networkInterfaces: readonly NetworkInterfaceSpec[];
  readonly blockDevices: readonly BlockDeviceSpec[];
  /** Must hold a kubernetes.io/cluster/<name> key and a kubernetes.io/role/<role> key. */
  readonly tags: Readonly<Record<string, string>>;
  /** Set: a spot instance; "" means no maximum price. */
  readonly spotPrice?: string;
  readonly instanceMetadataOptions?: InstanceMetadataOptions;
  readonly capacityReservation?: CapacityReservationSpec;
  /** false: source/destination checks are disabled after create (NAT instances). Default true. */
  readonly srcAndDstChecksEnabled?: boolean;
  readonly ebsOptimized?: boolean;
  readonly monitoring?: boolean;
  readonly cpuOptions?: { readonly coreCount: number; readonly threadsPerCore: number };
  readonly placement?: PlacementSpec;
}

export interface NetworkInterfaceSpec {
  readonly subnetID: string;
  readonly securityGroupIDs: readonly string[];
  readonly associatePublicIPAddress?: boolean;
  readonly deleteOnTermination?: boolean;
  readonly description?: string;
  readonly ipv6AddressCount?: number;
  readonly ipv6PrefixCount?: number;
  readonly interfaceType?: string;
  readonly networkCardIndex?: number;
  readonly deviceIndex?: number;
}

export interface BlockDeviceSpec {
  /** "/root" (or the only device) maps to the image's root device. */
  readonly deviceName?: string;
  readonly ebs: {
    readonly volumeSize: number;
    readonly volumeType: string;
    readonly deleteOnTermination?: boolean;
    readonly encrypted?: boolean;
    readonly iops?: number;
    readonly throughput?: number;
    readonly kmsKeyID?: string;
    readonly snapshotID?: string;
  };
}

export interface InstanceMetadataOptions {
  readonly httpEndpoint?: string;
  readonly httpPutResponseHopLimit?: number;
  readonly httpTokens?: string;
  readonly httpProtocolIpv6?: string;
}

export interface CapacityReservationSpec {
  readonly capacityReservationPreference?: string;
  readonly capacityReservationId?: string;
  readonly capacityReservationResourceGroupArn?: string;
}

export interface PlacementSpec {
  readonly groupId?: string;
  readonly tenancy?: string;
  readonly hostId?: string;
  readonly partitionNumber?: number;
  readonly affinity?: string;
}

export const CLUSTER_TAG_PREFIX = "kubernetes.io/cluster/";
export const ROLE_TAG_PREFIX = "kubernetes.io/role/";
/** The tag holding the machine name (Gardener's choice, so its VMs are adopted). */
export const NAME_TAG = "Name";
export const ROOT_DEVICE_NAME = "/root";
export const VOLUME_TYPES = ["gp2", "gp3", "io1", "io2", "st1", "sc1", "standard"] as const;
const DATA_DEVICE_NAME = /^\/dev\/(sd[a-z]|xvd[a-c][a-z]?)$/;

type Raw = Record<string, unknown>;

/** Collects every problem of a providerSpec, each naming its field. */
class Problems {
  readonly list: string[] = [];
  add(field: string, problem: string): void {
    this.list.push(`providerSpec.${field}: ${problem}`);
  }
}

const isObject = (v: unknown): v is Raw => typeof v === "object" && v !== null && !Array.isArray(v);

function str(p: Problems, o: Raw, key: string, path: string, required: boolean): string | undefined {
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

function num(
  p: Problems,
  o: Raw,
  key: string,
  path: string,
  min: number,
  max = Infinity,
): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    p.add(path, `must be an integer ${max === Infinity ? `>= ${min}` : `from ${min} to ${max}`}`);
    return undefined;
  }
  return v;
}

function bool(p: Problems, o: Raw, key: string, path: string): boolean | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "boolean") {
    p.add(path, "must be true or false");
    return undefined;
  }
  return v;
}

function oneOf(
  p: Problems,
  o: Raw,
  key: string,
  path: string,
  allowed: readonly string[],
): string | undefined {
  const v = str(p, o, key, path, false);
  if (v !== undefined && !allowed.includes(v)) p.add(path, `must be one of ${allowed.join(", ")}`);
  return v;
}

/** T with its possibly-undefined properties made optional. */
type Defined<T> = { [K in keyof T as undefined extends T[K] ? never : K]: T[K] } & {
  [K in keyof T as undefined extends T[K] ? K : never]?: Exclude<T[K], undefined>;
};

/** Drops undefined values, so optional fields stay absent (exactOptionalPropertyTypes). */
function defined<T extends object>(o: T): Defined<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Defined<T>;
}

function list(p: Problems, o: Raw, key: string, path: string): Raw[] {
  const v = o[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || !v.every(isObject)) {
    p.add(path, "must be a list of objects");
    return [];
  }
  return v;
}

function iam(p: Problems, spec: Raw): AwsProviderSpec["iam"] {
  const raw = spec.iam ?? {};
  if (!isObject(raw)) {
    p.add("iam", "must be an object with name or arn");
    return {};
  }
  const name = str(p, raw, "name", "iam.name", false);
  const arn = str(p, raw, "arn", "iam.arn", false);
  if ((name === undefined) === (arn === undefined)) p.add("iam", "set exactly one of iam.name and iam.arn");
  return defined({ name, arn });
}

function networkInterfaces(p: Problems, spec: Raw): NetworkInterfaceSpec[] {
  const items = list(p, spec, "networkInterfaces", "networkInterfaces");
  if (items.length === 0 && (spec.networkInterfaces == null || Array.isArray(spec.networkInterfaces))) {
    p.add("networkInterfaces", "required: at least one network interface with subnetID and securityGroupIDs");
  }
  return items.map((ni, i) => {
    const at = `networkInterfaces[${i}]`;
    const groups = ni.securityGroupIDs;
    const okGroups =
      Array.isArray(groups) && groups.length > 0 && groups.every((g) => typeof g === "string" && g !== "");
    if (!okGroups) p.add(`${at}.securityGroupIDs`, "required: a list of non-empty security group IDs");
    return defined({
      subnetID: str(p, ni, "subnetID", `${at}.subnetID`, true) ?? "",
      securityGroupIDs: okGroups ? (groups as string[]) : [],
      associatePublicIPAddress: bool(p, ni, "associatePublicIPAddress", `${at}.associatePublicIPAddress`),
      deleteOnTermination: bool(p, ni, "deleteOnTermination", `${at}.deleteOnTermination`),
      description: str(p, ni, "description", `${at}.description`, false),
      ipv6AddressCount: num(p, ni, "ipv6AddressCount", `${at}.ipv6AddressCount`, 0),
      ipv6PrefixCount: num(p, ni, "ipv6PrefixCount", `${at}.ipv6PrefixCount`, 0),
      interfaceType: oneOf(p, ni, "interfaceType", `${at}.interfaceType`, ["interface", "efa", "efa-only"]),
      networkCardIndex: num(p, ni, "networkCardIndex", `${at}.networkCardIndex`, 0),
      deviceIndex: num(p, ni, "deviceIndex", `${at}.deviceIndex`, 0),
    });
  });
}

function blockDevice(p: Problems, bd: Raw, at: string): BlockDeviceSpec {
  const ebs = isObject(bd.ebs) ? bd.ebs : {};
  if (!isObject(bd.ebs)) p.add(`${at}.ebs`, "required: an object with volumeSize and volumeType");
  const volumeType = oneOf(p, ebs, "volumeType", `${at}.ebs.volumeType`, VOLUME_TYPES);
  if (volumeType === undefined) p.add(`${at}.ebs.volumeType`, `required: one of ${VOLUME_TYPES.join(", ")}`);
  const volumeSize = num(p, ebs, "volumeSize", `${at}.ebs.volumeSize`, 1);
  if (volumeSize === undefined) p.add(`${at}.ebs.volumeSize`, "required: size in GiB, at least 1");
  const iops = num(p, ebs, "iops", `${at}.ebs.iops`, 0);
  if ((volumeType === "io1" || volumeType === "io2") && !iops) {
    p.add(`${at}.ebs.iops`, `required for volume type ${volumeType}`);
  }
  return defined({
    deviceName: str(p, bd, "deviceName", `${at}.deviceName`, false),
    ebs: defined({
      volumeSize: volumeSize ?? 0,
      volumeType: volumeType ?? "",
      deleteOnTermination: bool(p, ebs, "deleteOnTermination", `${at}.ebs.deleteOnTermination`),
      encrypted: bool(p, ebs, "encrypted", `${at}.ebs.encrypted`),
      iops: iops || undefined,
      throughput: num(p, ebs, "throughput", `${at}.ebs.throughput`, 1),
      kmsKeyID: str(p, ebs, "kmsKeyID", `${at}.ebs.kmsKeyID`, false),
      snapshotID: str(p, ebs, "snapshotID", `${at}.ebs.snapshotID`, false),
    }),
  });
}

function blockDevices(p: Problems, spec: Raw): BlockDeviceSpec[] {
  const devices = list(p, spec, "blockDevices", "blockDevices").map((bd, i) =>
    blockDevice(p, bd, `blockDevices[${i}]`),
  );
  const roots = devices.filter((d) => d.deviceName === ROOT_DEVICE_NAME).length;
  if (roots > 1 || (roots === 0 && devices.length > 1)) {
    p.add("blockDevices", `exactly one device must be the root device (deviceName ${ROOT_DEVICE_NAME})`);
  }
  const seen = new Set<string>();
  devices.forEach((d, i) => {
    const name = d.deviceName ?? "";
    if (devices.length > 1 && name !== ROOT_DEVICE_NAME && !DATA_DEVICE_NAME.test(name)) {
      p.add(
        `blockDevices[${i}].deviceName`,
        `must match ${DATA_DEVICE_NAME.source} or be ${ROOT_DEVICE_NAME}`,
      );
    }
    if (seen.has(name)) p.add(`blockDevices[${i}].deviceName`, `"${name}" is used twice`);
    seen.add(name);
  });
  return devices;
}

function tags(p: Problems, spec: Raw): Record<string, string> {
  const raw = spec.tags;
  if (!isObject(raw) || !Object.values(raw).every((v) => typeof v === "string")) {
    p.add(
      "tags",
      "required: a map of strings with kubernetes.io/cluster/<name> and kubernetes.io/role/<role>",
    );
    return {};
  }
  const keys = Object.keys(raw);
  if (!keys.some((k) => k.startsWith(CLUSTER_TAG_PREFIX) && k.length > CLUSTER_TAG_PREFIX.length)) {
    p.add("tags", `needs a tag ${CLUSTER_TAG_PREFIX}<cluster name>`);
  }
  if (!keys.some((k) => k.startsWith(ROLE_TAG_PREFIX) && k.length > ROLE_TAG_PREFIX.length)) {
    p.add("tags", `needs a tag ${ROLE_TAG_PREFIX}<role>, e.g. ${ROLE_TAG_PREFIX}node`);
  }
  return raw as Record<string, string>;
}

function optionalObject(p: Problems, spec: Raw, key: string): Raw | undefined {
  const v = spec[key];
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) {
    p.add(key, "must be an object");
    return undefined;
  }
  return v;
}

function metadataOptions(p: Problems, spec: Raw): InstanceMetadataOptions | undefined {
  const o = optionalObject(p, spec, "instanceMetadataOptions");
  if (!o) return undefined;
  const at = "instanceMetadataOptions";
  return defined({
    httpEndpoint: oneOf(p, o, "httpEndpoint", `${at}.httpEndpoint`, ["enabled", "disabled"]),
    httpPutResponseHopLimit: num(p, o, "httpPutResponseHopLimit", `${at}.httpPutResponseHopLimit`, 1, 64),
    httpTokens: oneOf(p, o, "httpTokens", `${at}.httpTokens`, ["required", "optional"]),
    httpProtocolIpv6: oneOf(p, o, "httpProtocolIpv6", `${at}.httpProtocolIpv6`, ["enabled", "disabled"]),
  });
}

function capacityReservation(p: Problems, spec: Raw): CapacityReservationSpec | undefined {
  const o = optionalObject(p, spec, "capacityReservation");
  if (!o) return undefined;
  const at = "capacityReservation";
  const out = defined({
    capacityReservationPreference: oneOf(
      p,
      o,
      "capacityReservationPreference",
      `${at}.capacityReservationPreference`,
      ["open", "none"],
    ),
    capacityReservationId: str(p, o, "capacityReservationId", `${at}.capacityReservationId`, false),
    capacityReservationResourceGroupArn: str(
      p,
      o,
      "capacityReservationResourceGroupArn",
      `${at}.capacityReservationResourceGroupArn`,
      false,
    ),
  });
  const set = Object.keys(out).length;
  if (set > 1) {
    p.add(
      at,
      "set only one of capacityReservationPreference, capacityReservationId, capacityReservationResourceGroupArn",
    );
  }
  return out;
}

function cpuOptions(p: Problems, spec: Raw): AwsProviderSpec["cpuOptions"] {
  const o = optionalObject(p, spec, "cpuOptions");
  if (!o) return undefined;
  const coreCount = num(p, o, "coreCount", "cpuOptions.coreCount", 1);
  const threadsPerCore = num(p, o, "threadsPerCore", "cpuOptions.threadsPerCore", 1, 2);
  if (coreCount === undefined) p.add("cpuOptions.coreCount", "required");
  if (threadsPerCore === undefined) p.add("cpuOptions.threadsPerCore", "required: 1 or 2");
  return { coreCount: coreCount ?? 0, threadsPerCore: threadsPerCore ?? 0 };
}

function placement(p: Problems, spec: Raw): PlacementSpec | undefined {
  const o = optionalObject(p, spec, "placement");
  if (!o) return undefined;
  return defined({
    groupId: str(p, o, "groupId", "placement.groupId", false),
    tenancy: oneOf(p, o, "tenancy", "placement.tenancy", ["default", "dedicated", "host"]),
    hostId: str(p, o, "hostId", "placement.hostId", false),
    partitionNumber: num(p, o, "partitionNumber", "placement.partitionNumber", 1),
    affinity: oneOf(p, o, "affinity", "placement.affinity", ["default", "host"]),
  });
}

/**
 * Validates a providerSpec and returns it typed. Every problem is reported at once, each naming
 * its field (providerSpec.networkInterfaces[0].subnetID: required), as InvalidArgument.
 */
export function parseProviderSpec(raw: unknown): AwsProviderSpec {
  if (!isObject(raw)) throw new MachineError("InvalidArgument", "providerSpec: must be an object");
  const p = new Problems();
  const spotPrice = raw.spotPrice;
  if (spotPrice !== undefined && spotPrice !== null && typeof spotPrice !== "string") {
    p.add("spotPrice", 'must be a string (a maximum price, or "" for none)');
  }
  const spec: AwsProviderSpec = defined({
    ami: str(p, raw, "ami", "ami", true) ?? "",
    region: str(p, raw, "region", "region", true) ?? "",
    machineType: str(p, raw, "machineType", "machineType", true) ?? "",
    iam: iam(p, raw),
    keyName: str(p, raw, "keyName", "keyName", false),
    networkInterfaces: networkInterfaces(p, raw),
    blockDevices: blockDevices(p, raw),
    tags: tags(p, raw),
    spotPrice: typeof spotPrice === "string" ? spotPrice : undefined,
    instanceMetadataOptions: metadataOptions(p, raw),
    capacityReservation: capacityReservation(p, raw),
    srcAndDstChecksEnabled: bool(p, raw, "srcAndDstChecksEnabled", "srcAndDstChecksEnabled"),
    ebsOptimized: bool(p, raw, "ebsOptimized", "ebsOptimized"),
    monitoring: bool(p, raw, "monitoring", "monitoring"),
    cpuOptions: cpuOptions(p, raw),
    placement: placement(p, raw),
  });
  if (p.list.length > 0) throw new MachineError("InvalidArgument", p.list.join("; "));
  return spec;
}

/** The cluster tag key (kubernetes.io/cluster/<name>) and role tag key of a valid spec. */
export function clusterTags(spec: AwsProviderSpec): { cluster: string; role: string } {
  const keys = Object.keys(spec.tags);
  return {
    cluster: keys.find((k) => k.startsWith(CLUSTER_TAG_PREFIX)) ?? "",
    role: keys.find((k) => k.startsWith(ROLE_TAG_PREFIX)) ?? "",
  };
}
