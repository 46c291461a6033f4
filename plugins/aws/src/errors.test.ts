import { describe, expect, it } from "vitest";
import { MachineError } from "sprout/driver";
import { isThrottling, isTransient, toMachineError } from "./errors.ts";

/** An error shaped as the SDK throws them (name = EC2's code, HTTP status in $metadata). */
const awsError = (name: string, status: number, fault = status >= 500 ? "server" : "client") =>
  Object.assign(new Error(`message of ${name}`), {
    name,
    $fault: fault,
    $metadata: { httpStatusCode: status },
  });

describe("EC2 error mapping", () => {
  it.each<[string, number, string]>([
    ["InsufficientInstanceCapacity", 500, "ResourceExhausted"],
    ["InstanceLimitExceeded", 400, "ResourceExhausted"],
    ["VcpuLimitExceeded", 400, "ResourceExhausted"],
    ["InsufficientVolumeCapacity", 400, "ResourceExhausted"],
    ["MaxSpotInstanceCountExceeded", 400, "ResourceExhausted"],
    ["Unsupported", 400, "ResourceExhausted"],
    ["RequestLimitExceeded", 503, "Unavailable"],
    ["Throttling", 400, "Unavailable"],
    ["ServiceUnavailable", 503, "Unavailable"],
    ["SomethingNew", 429, "Unavailable"],
    ["InvalidInstanceID.NotFound", 400, "NotFound"],
    ["InvalidAMIID.NotFound", 400, "NotFound"],
    ["InvalidSubnetID.NotFound", 400, "NotFound"],
    ["NoSuchEntity", 404, "NotFound"],
    ["AuthFailure", 401, "Unauthenticated"],
    ["SignatureDoesNotMatch", 403, "Unauthenticated"],
    ["InvalidClientTokenId", 403, "Unauthenticated"],
    ["UnauthorizedOperation", 403, "PermissionDenied"],
    ["AccessDenied", 403, "PermissionDenied"],
    ["InvalidParameterValue", 400, "InvalidArgument"],
    ["InvalidParameterCombination", 400, "InvalidArgument"],
    ["MissingParameter", 400, "InvalidArgument"],
    ["InvalidAMIID.Malformed", 400, "InvalidArgument"],
    ["InvalidInstanceType.NotFound", 400, "InvalidArgument"],
    ["InternalError", 500, "Internal"],
    ["SomethingNew", 400, "Internal"],
  ])("%s (HTTP %i) → %s", (name, status, code) => {
    expect(toMachineError(awsError(name, status), "doing").code).toBe(code);
  });

  it("names the providerSpec field an error points at", () => {
    expect(toMachineError(awsError("InvalidAMIID.NotFound", 400), "creating").message).toBe(
      "creating: InvalidAMIID.NotFound: message of InvalidAMIID.NotFound (providerSpec.ami)",
    );
    expect(toMachineError(awsError("InvalidSubnetID.NotFound", 400), "x").message).toContain(
      "(providerSpec.networkInterfaces[].subnetID)",
    );
    expect(toMachineError(awsError("InvalidKeyPair.NotFound", 400), "x").message).toContain(
      "(providerSpec.keyName)",
    );
  });

  it("maps an unreachable endpoint to Unavailable", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), { code: "ECONNREFUSED" });
    const err = toMachineError(refused, "listing");
    expect(err.code).toBe("Unavailable");
    expect(err.message).toBe("listing: EC2 endpoint unreachable: connect ECONNREFUSED 127.0.0.1:9");
    expect(isTransient(refused)).toBe(true);
  });

  it("keeps MachineErrors as they are", () => {
    const own = new MachineError("OutOfRange", "two");
    expect(toMachineError(own, "x")).toBe(own);
  });

  it("tells throttling (safe to resend) from other transient failures", () => {
    expect(isThrottling(awsError("RequestLimitExceeded", 503))).toBe(true);
    expect(isThrottling(awsError("InternalError", 500))).toBe(false);
    expect(isTransient(awsError("InternalError", 500))).toBe(true);
    expect(isTransient(awsError("InvalidParameterValue", 400))).toBe(false);
  });
});
