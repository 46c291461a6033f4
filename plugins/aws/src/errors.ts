import { type ErrorCode, MachineError } from "sprout/driver";

/**
 * EC2 error codes and what the controller should make of them. Classification goes by the error's
 * name (EC2's error code) and HTTP status, never by message text.
 */

/** Capacity and quota: the cluster-autoscaler backs off the node group and tries another. */
const RESOURCE_EXHAUSTED = new Set([
  "InsufficientCapacity",
  "InsufficientAddressCapacity",
  "InsufficientInstanceCapacity",
  "InsufficientHostCapacity",
  "InsufficientReservedInstanceCapacity",
  "InsufficientVolumeCapacity",
  "InstanceLimitExceeded",
  "VcpuLimitExceeded",
  "VolumeLimitExceeded",
  "MaxIOPSLimitExceeded",
  "MaxSpotInstanceCountExceeded",
  "RouteLimitExceeded",
  "NetworkInterfaceLimitExceeded",
  "AddressLimitExceeded",
  "ResourceLimitExceeded",
  "SpotMaxPriceTooLow",
  "Unsupported",
]);

/** Throttling: the request was refused before anything happened; safe to send again later. */
const THROTTLING = new Set([
  "RequestLimitExceeded",
  "Throttling",
  "ThrottlingException",
  "ThrottledException",
  "RequestThrottled",
  "RequestThrottledException",
  "TooManyRequestsException",
  "EC2ThrottledException",
  "SlowDown",
]);

const UNAVAILABLE = new Set([
  ...THROTTLING,
  "ServiceUnavailable",
  "Unavailable",
  "RequestTimeout",
  "RequestTimeoutException",
  "PriorRequestNotComplete",
]);

const UNAUTHENTICATED = new Set([
  "AuthFailure",
  "InvalidClientTokenId",
  "SignatureDoesNotMatch",
  "UnrecognizedClientException",
  "IncompleteSignature",
  "MissingAuthenticationToken",
  "InvalidAccessKeyId",
  "ExpiredToken",
  "RequestExpired",
]);

const PERMISSION_DENIED = new Set([
  "UnauthorizedOperation",
  "AccessDenied",
  "AccessDeniedException",
  "OptInRequired",
  "Blocked",
]);

const INVALID_ARGUMENT = new Set([
  "InvalidParameter",
  "InvalidParameterValue",
  "InvalidParameterCombination",
  "MissingParameter",
  "UnknownParameter",
  "InvalidRequest",
  "InvalidBlockDeviceMapping",
  "InvalidInstanceType",
  "InvalidInstanceType.NotFound",
  "ValidationError",
]);

/** Node.js network failures: the endpoint did not answer. */
const NETWORK = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EAI_AGAIN"]);

/** The providerSpec field an EC2 error code points at, so the message says what to fix. */
const FIELDS: readonly (readonly [RegExp, string])[] = [
  [/^InvalidAMIID/, "ami"],
  [/^InvalidSubnet/, "networkInterfaces[].subnetID"],
  [/^Invalid(Security)?Group/, "networkInterfaces[].securityGroupIDs"],
  [/^InvalidKeyPair/, "keyName"],
  [/^(InvalidInstanceType|Unsupported|InsufficientInstanceCapacity)/, "machineType"],
  [/^(NoSuchEntity|InvalidInstanceProfile)/, "iam"],
  [/^InvalidCapacityReservation/, "capacityReservation"],
  [/^(InvalidBlockDeviceMapping|InvalidSnapshot|InvalidVolume)/, "blockDevices"],
  [/^InvalidPlacementGroup/, "placement"],
  [/^SpotMaxPriceTooLow/, "spotPrice"],
];

interface AwsErrorShape {
  readonly name: string;
  readonly message: string;
  readonly status: number | undefined;
  readonly fault: string | undefined;
  readonly network: boolean;
}

function shapeOf(err: unknown): AwsErrorShape {
  const e = (typeof err === "object" && err !== null ? err : {}) as {
    name?: unknown;
    message?: unknown;
    code?: unknown;
    $fault?: unknown;
    $metadata?: { httpStatusCode?: unknown };
  };
  const name = typeof e.name === "string" ? e.name : "Error";
  const code = typeof e.code === "string" ? e.code : "";
  const status = e.$metadata?.httpStatusCode;
  return {
    name,
    message: typeof e.message === "string" ? e.message : String(err),
    status: typeof status === "number" ? status : undefined,
    fault: typeof e.$fault === "string" ? e.$fault : undefined,
    network: NETWORK.has(code) || name === "TimeoutError" || name === "AbortError",
  };
}

/** The EC2 error code of a failed call (the SDK's error name), or undefined for other failures. */
export function awsCodeOf(err: unknown): string | undefined {
  const s = shapeOf(err);
  return s.status === undefined && s.fault === undefined ? undefined : s.name;
}

/** True when EC2 refused the request for its rate: nothing was done, so it may be sent again. */
export function isThrottling(err: unknown): boolean {
  const s = shapeOf(err);
  return THROTTLING.has(s.name) || s.status === 429;
}

/** True for answers that a retry soon may change (throttling, 5xx, no answer at all). */
export function isTransient(err: unknown): boolean {
  const s = shapeOf(err);
  return (
    UNAVAILABLE.has(s.name) || s.network || (s.status !== undefined && s.status >= 500 && s.status !== 501)
  );
}

function codeFor(s: AwsErrorShape): ErrorCode {
  if (RESOURCE_EXHAUSTED.has(s.name)) return "ResourceExhausted";
  if (UNAVAILABLE.has(s.name) || s.status === 429 || s.status === 503 || s.network) return "Unavailable";
  if (UNAUTHENTICATED.has(s.name)) return "Unauthenticated";
  if (PERMISSION_DENIED.has(s.name)) return "PermissionDenied";
  if (INVALID_ARGUMENT.has(s.name) || s.name.endsWith(".Malformed")) return "InvalidArgument";
  if (s.name.endsWith(".NotFound") || s.name === "NoSuchEntity") return "NotFound";
  if (s.status === 401) return "Unauthenticated";
  if (s.status === 403) return "PermissionDenied";
  return "Internal";
}

/**
 * Maps a failed EC2 call to the MachineError the controller reacts to. `what` says what the driver
 * was doing; the message carries EC2's code and text and, where the code points at one, the
 * providerSpec field to fix. Request parameters (credentials, user data) never appear in it.
 */
export function toMachineError(err: unknown, what: string): MachineError {
  if (err instanceof MachineError) return err;
  const s = shapeOf(err);
  const field = FIELDS.find(([re]) => re.test(s.name))?.[1];
  const hint = field ? ` (providerSpec.${field})` : "";
  const detail = s.network ? `EC2 endpoint unreachable: ${s.message}` : `${s.name}: ${s.message}`;
  return new MachineError(codeFor(s), `${what}: ${detail}${hint}`, { cause: err });
}

/**
 * A create whose instance EC2 terminated at launch. Its state reason (`Server.InsufficientInstanceCapacity`,
 * `Client.VolumeLimitExceeded`, `Server.InternalError`, …) decides the code: capacity and limits are
 * ResourceExhausted, anything else Internal.
 */
export function launchFailure(
  instanceId: string,
  reason: { readonly Code?: string | undefined; readonly Message?: string | undefined } | undefined,
): MachineError {
  const name = (reason?.Code ?? "").replace(/^(Server|Client)\./, "");
  const code: ErrorCode = RESOURCE_EXHAUSTED.has(name) ? "ResourceExhausted" : "Internal";
  const why = reason?.Message ?? reason?.Code ?? "no reason given";
  return new MachineError(code, `instance ${instanceId} terminated at launch: ${why}`);
}
