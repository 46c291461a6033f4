import { type ErrorCode, MachineError } from "sprout/driver";

/**
 * ARM error codes and what the controller should make of them. Classification goes by ARM's error
 * code and HTTP status; message text is read only where Azure itself gives no other sign (a quota
 * refusal is OperationNotAllowed with "quota" in the text, as Gardener's provider reads it too).
 */

/** Capacity and quota: the cluster-autoscaler backs off the node group and tries another. */
const RESOURCE_EXHAUSTED = new Set([
  "ZonalAllocationFailed",
  "AllocationFailed",
  "OverconstrainedAllocationRequest",
  "OverconstrainedZonalAllocationRequest",
  "SkuNotAvailable",
  "ResourceQuotaExceeded",
  "QuotaExceeded",
  "OperationNotAllowedQuota",
]);

const THROTTLING = new Set(["TooManyRequests", "SubscriptionRequestsThrottled", "ResourceRequestsThrottled"]);
const UNAVAILABLE = new Set([...THROTTLING, "ServiceUnavailable", "GatewayTimeout", "RetryableError"]);
const UNAUTHENTICATED = new Set([
  "InvalidAuthenticationToken",
  "InvalidAuthenticationTokenTenant",
  "ExpiredAuthenticationToken",
  "AuthenticationFailed",
]);
const PERMISSION_DENIED = new Set(["AuthorizationFailed", "LinkedAuthorizationFailed", "Forbidden"]);
const INVALID_ARGUMENT = new Set([
  "InvalidParameter",
  "InvalidRequestContent",
  "InvalidTemplate",
  "BadRequest",
  "InvalidResourceReference",
  "PropertyChangeNotAllowed",
  "InvalidRequestFormat",
]);
const NOT_FOUND = new Set([
  "ResourceNotFound",
  "NotFound",
  "ResourceGroupNotFound",
  "SubscriptionNotFound",
  "ImageNotFound",
  "PlatformImageNotFound",
]);
/** Errors of @azure/identity: the credential could not get a token. */
const CREDENTIAL_ERRORS = new Set(["AuthenticationError", "AuthenticationRequiredError"]);
/** Nothing was refused: the call was aborted or timed out, or the credential could not reach Entra ID. */
const NETWORK_NAMES = new Set(["AbortError", "TimeoutError", "CredentialUnavailableError"]);
const NETWORK = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "REQUEST_SEND_ERROR",
]);

/** The providerSpec field an ARM error code points at. */
const FIELDS: readonly (readonly [RegExp, string])[] = [
  [
    /^(ZonalAllocationFailed|SkuNotAvailable|AllocationFailed|Overconstrained)/,
    "properties.hardwareProfile.vmSize",
  ],
  [/^(ImageNotFound|PlatformImageNotFound|InvalidImage)/, "properties.storageProfile.imageReference"],
  [/^InvalidResourceReference$/, "subnetInfo"],
  [/^ResourceGroupNotFound$/, "resourceGroup"],
];

const LRO_FAILURE = /^The long-running operation has failed\. (\w+)\. ([\s\S]*)$/;

interface Shape {
  readonly code: string;
  readonly status: number | undefined;
  readonly message: string;
  readonly retryAfter: string | undefined;
  readonly network: boolean;
  readonly credential: boolean;
}

type ErrorLike = {
  name?: unknown;
  code?: unknown;
  statusCode?: unknown;
  message?: unknown;
  response?: { headers?: { get?: (name: string) => string | undefined } };
};

const text = (v: unknown): string => (typeof v === "string" ? v : "");

function shapeOf(err: unknown): Shape {
  const e = (typeof err === "object" && err !== null ? err : {}) as ErrorLike;
  const name = text(e.name);
  const raw = typeof e.message === "string" ? e.message : String(err);
  // A long-running operation that failed (the VM PUT was accepted, the allocation then failed)
  // comes from the SDK's poller as an Error whose message it formats as "… has failed. <code>. <message>".
  const lro = LRO_FAILURE.exec(raw);
  const code = lro?.[1] ?? text(e.code);
  const status = typeof e.statusCode === "number" ? e.statusCode : undefined;
  return {
    code,
    status: lro ? 200 : status,
    message: lro?.[2] ?? raw,
    retryAfter: e.response?.headers?.get?.("retry-after") ?? undefined,
    network: NETWORK.has(code) || NETWORK_NAMES.has(name),
    credential: CREDENTIAL_ERRORS.has(name),
  };
}

/** The ARM error code of a failed call, or undefined for other failures. */
export function armCodeOf(err: unknown): string | undefined {
  const s = shapeOf(err);
  return s.status === undefined ? undefined : s.code;
}

/** True for a 404 answer (the resource, or its group, does not exist). */
export function isNotFound(err: unknown): boolean {
  return shapeOf(err).status === 404;
}

/** True when Azure refused the request for its rate: nothing was done, it may be sent again. */
export function isThrottling(err: unknown): boolean {
  const s = shapeOf(err);
  return s.status === 429 || THROTTLING.has(s.code);
}

/** True for answers a retry soon may change (throttling, 5xx, no answer at all). */
export function isTransient(err: unknown): boolean {
  const s = shapeOf(err);
  return (
    isThrottling(err) ||
    UNAVAILABLE.has(s.code) ||
    (s.network && !s.credential) ||
    (s.status !== undefined && s.status >= 500 && s.status !== 501)
  );
}

function isQuota(s: Shape): boolean {
  return s.code === "OperationNotAllowed" && /quota/i.test(s.message);
}

function codeFor(s: Shape): ErrorCode {
  if (s.credential) return "Unauthenticated";
  if (RESOURCE_EXHAUSTED.has(s.code) || isQuota(s)) return "ResourceExhausted";
  if (UNAVAILABLE.has(s.code) || s.status === 429 || s.status === 503 || s.network) return "Unavailable";
  if (UNAUTHENTICATED.has(s.code) || s.status === 401) return "Unauthenticated";
  if (PERMISSION_DENIED.has(s.code) || s.status === 403) return "PermissionDenied";
  if (NOT_FOUND.has(s.code) || s.status === 404) return "NotFound";
  if (INVALID_ARGUMENT.has(s.code)) return "InvalidArgument";
  return "Internal";
}

/**
 * Maps a failed Azure call to the MachineError the controller reacts to. `what` says what the
 * driver was doing; the message carries ARM's code and text, the Retry-After of a throttled call
 * and, where the code points at one, the providerSpec field to fix. Credentials never appear in it.
 */
export function toMachineError(err: unknown, what: string): MachineError {
  if (err instanceof MachineError) return err;
  const s = shapeOf(err);
  const field = FIELDS.find(([re]) => re.test(s.code))?.[1];
  const hint = field ? ` (providerSpec.${field})` : "";
  const retry = s.retryAfter ? ` (Retry-After: ${s.retryAfter}s)` : "";
  const detail = s.credential
    ? `Microsoft Entra ID refused the credentials: ${firstLine(s.message)}`
    : s.network
      ? `Azure endpoint unreachable: ${s.message}`
      : `${s.code || `HTTP ${s.status ?? "?"}`}: ${s.message}`;
  // No cause: the SDK's error holds the request, bearer token included, and causes get logged.
  return new MachineError(codeFor(s), `${what}: ${detail}${retry}${hint}`);
}

const firstLine = (m: string): string => (m.split(/ - Timestamp| - Trace ID/)[0] ?? m).trim();
