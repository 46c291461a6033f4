/**
 * Driver error codes (MCM's machinecodes, numbered like gRPC's plus Uninitialized) and what the
 * machine controller does after each. The name goes to Machine status.lastOperation.errorCode.
 */
export const ERROR_CODES = [
  "OK",
  "Canceled",
  "Unknown",
  "InvalidArgument",
  "DeadlineExceeded",
  "NotFound",
  "AlreadyExists",
  "PermissionDenied",
  "ResourceExhausted",
  "FailedPrecondition",
  "Aborted",
  "OutOfRange",
  "Unimplemented",
  "Internal",
  "Unavailable",
  "DataLoss",
  "Unauthenticated",
  "Uninitialized",
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** The numeric value of an error code. */
export function errorCodeNumber(code: ErrorCode): number {
  return ERROR_CODES.indexOf(code);
}

/** Codes after which a retry soon may succeed (the controller retries these after the short period). */
export const TRANSIENT_CODES: readonly ErrorCode[] = [
  "Unknown",
  "DeadlineExceeded",
  "Aborted",
  "Unavailable",
];

/**
 * When the controller tries a failed step again, as MCM does: `short` (--machine-short-retry, 5 s),
 * `medium` (3 min), `long` (10 min) or `resourceExhausted` (--resource-exhausted-retry, 10 min).
 */
export type RetryClass = "short" | "medium" | "long" | "resourceExhausted";

/** The step a driver call belongs to: creating (status, create, initialize) or deleting the VM. */
export type FlowKind = "create" | "delete";

/** MCM's retry class of a failed driver call in the create or the delete flow. */
export function retryClassOf(code: ErrorCode, flow: FlowKind): RetryClass {
  if (TRANSIENT_CODES.includes(code)) return "short";
  if (flow === "create") return code === "ResourceExhausted" ? "resourceExhausted" : "medium";
  return "long";
}
