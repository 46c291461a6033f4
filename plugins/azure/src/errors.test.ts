import { describe, expect, it } from "vitest";
import { MachineError } from "sprout/driver";
import { isThrottling, isTransient, toMachineError } from "./errors.ts";

/** An error shaped as the SDKs throw them (RestError: ARM's code, HTTP status, response headers). */
const armError = (
  code: string,
  status: number,
  message = `message of ${code}`,
  headers: Record<string, string> = {},
) =>
  Object.assign(new Error(message), {
    name: "RestError",
    code,
    statusCode: status,
    response: { headers: { get: (h: string) => headers[h.toLowerCase()] } },
  });
/** A long-running operation that failed, as the SDK's poller reports it. */
const lroError = (code: string, message: string) =>
  new Error(`The long-running operation has failed. ${code}. ${message}`);

describe("ARM error mapping", () => {
  it.each<[string, number, string, string]>([
    ["ZonalAllocationFailed", 200, "Allocation failed.", "ResourceExhausted"],
    ["AllocationFailed", 200, "Allocation failed.", "ResourceExhausted"],
    ["SkuNotAvailable", 409, "The requested size is not available.", "ResourceExhausted"],
    ["ResourceQuotaExceeded", 409, "quota", "ResourceExhausted"],
    ["OperationNotAllowed", 409, "exceeding approved standardDSv5Family Cores quota", "ResourceExhausted"],
    ["OperationNotAllowed", 409, "Disk is attached to VM", "Internal"],
    ["TooManyRequests", 429, "throttled", "Unavailable"],
    ["SubscriptionRequestsThrottled", 429, "throttled", "Unavailable"],
    ["SomethingNew", 429, "throttled", "Unavailable"],
    ["ServiceUnavailable", 503, "later", "Unavailable"],
    ["InvalidAuthenticationToken", 401, "bad token", "Unauthenticated"],
    ["SomethingNew", 401, "no", "Unauthenticated"],
    ["AuthorizationFailed", 403, "no rights", "PermissionDenied"],
    ["SomethingNew", 403, "no", "PermissionDenied"],
    ["ResourceNotFound", 404, "gone", "NotFound"],
    ["ResourceGroupNotFound", 404, "gone", "NotFound"],
    ["SomethingNew", 404, "gone", "NotFound"],
    ["InvalidParameter", 400, "bad", "InvalidArgument"],
    ["InvalidResourceReference", 400, "bad", "InvalidArgument"],
    ["InternalServerError", 500, "oops", "Internal"],
    ["SomethingNew", 400, "what", "Internal"],
  ])("%s (HTTP %i, %s) → %s", (code, status, message, expected) => {
    const err = status === 200 ? lroError(code, message) : armError(code, status, message);
    expect(toMachineError(err, "doing").code).toBe(expected);
  });

  it("reads the code of a failed long-running operation and names the field", () => {
    const err = toMachineError(lroError("ZonalAllocationFailed", "Allocation failed."), "creating VM a");
    expect(err.message).toBe(
      "creating VM a: ZonalAllocationFailed: Allocation failed. (providerSpec.properties.hardwareProfile.vmSize)",
    );
  });

  it("carries the Retry-After of a throttled answer", () => {
    const err = toMachineError(
      armError("TooManyRequests", 429, "slow down", { "retry-after": "17" }),
      "listing",
    );
    expect(err.message).toBe("listing: TooManyRequests: slow down (Retry-After: 17s)");
  });

  it.each<[string, string]>([
    ["AuthenticationError", "Unauthenticated"],
    ["AuthenticationRequiredError", "Unauthenticated"],
    ["CredentialUnavailableError", "Unavailable"],
  ])("maps the credential's %s to %s", (name, code) => {
    const err = Object.assign(new Error("AADSTS7000215: Invalid client secret provided. - Trace ID: x"), {
      name,
    });
    expect(toMachineError(err, "x").code).toBe(code);
  });

  it("maps an unreachable endpoint to Unavailable", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), {
      name: "RestError",
      code: "ECONNREFUSED",
    });
    const err = toMachineError(refused, "listing");
    expect(err.code).toBe("Unavailable");
    expect(err.message).toBe("listing: Azure endpoint unreachable: connect ECONNREFUSED 127.0.0.1:9");
    expect(isTransient(refused)).toBe(true);
  });

  it("keeps MachineErrors as they are", () => {
    const own = new MachineError("OutOfRange", "two");
    expect(toMachineError(own, "x")).toBe(own);
  });

  it("tells throttling (safe to resend) from other transient failures", () => {
    expect(isThrottling(armError("TooManyRequests", 429))).toBe(true);
    expect(isThrottling(armError("InternalServerError", 500))).toBe(false);
    expect(isTransient(armError("InternalServerError", 500))).toBe(true);
    expect(isTransient(armError("InvalidParameter", 400))).toBe(false);
    expect(isTransient(lroError("AllocationFailed", "x"))).toBe(false);
  });
});
