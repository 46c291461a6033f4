import { MachineError } from "sprout/driver";
import { MACHINE_TYPES } from "sprout/sim/cloud";

/** MachineClass.providerSpec of the virtual cloud. */
export interface VirtualProviderSpec {
  /** Base URL of the virtual cloud API; SPROUT_VIRTUAL_CLOUD_ENDPOINT when unset. */
  readonly endpoint?: string;
  /** small, medium or large. */
  readonly machineType: string;
  readonly zone: string;
  /** Tags put on every VM; ListMachines returns the VMs carrying all of them. */
  readonly tags: Readonly<Record<string, string>>;
}

const invalid = (field: string, fix: string): MachineError =>
  new MachineError("InvalidArgument", `providerSpec.${field}: ${fix}`);

/** Validates a providerSpec; the error names the field and how to fix it. */
export function parseProviderSpec(raw: unknown): VirtualProviderSpec {
  if (typeof raw !== "object" || raw === null) throw invalid("", "must be an object");
  const spec = raw as Record<string, unknown>;
  return {
    machineType: check(
      spec.machineType ?? "small",
      "machineType",
      (v): v is string => typeof v === "string" && v in MACHINE_TYPES,
      `must be one of ${Object.keys(MACHINE_TYPES).join(", ")}`,
    ),
    zone: check(
      spec.zone ?? "zone-a",
      "zone",
      (v): v is string => typeof v === "string" && v.length > 0,
      "must be a non-empty string",
    ),
    tags: check(spec.tags ?? {}, "tags", isStringMap, "must map strings to strings"),
    ...(spec.endpoint === undefined
      ? {}
      : {
          endpoint: check(
            spec.endpoint,
            "endpoint",
            (v): v is string => typeof v === "string" && /^https?:\/\//.test(v),
            "must be an http(s) URL",
          ),
        }),
  };
}

function check<T>(value: unknown, field: string, ok: (v: unknown) => v is T, fix: string): T {
  if (!ok(value)) throw invalid(field, fix);
  return value;
}

function isStringMap(v: unknown): v is Record<string, string> {
  return typeof v === "object" && v !== null && Object.values(v).every((x) => typeof x === "string");
}
