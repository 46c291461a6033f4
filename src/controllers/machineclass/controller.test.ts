import { describe, expect, it } from "vitest";
import type { Machine } from "../../api/v1alpha1/machine.ts";
import { classIndexer, secretKeysOf } from "./controller.ts";

describe("MachineClass references", () => {
  it("indexes machines by class name; a machine naming none is in no entry", () => {
    const m = (spec: unknown): Machine => ({ metadata: { name: "m" }, spec }) as Machine;
    expect(classIndexer(m({ class: { kind: "MachineClass", name: "c" } }))).toEqual(["c"]);
    expect(classIndexer(m({}))).toEqual([]);
    expect(classIndexer(m(undefined))).toEqual([]);
  });

  it("names the Secrets a class refers to, in the class's namespace unless given", () => {
    const keys = secretKeysOf({
      metadata: { name: "c", namespace: "ns" },
      provider: "virtual",
      providerSpec: {},
      secretRef: { name: "data" },
      credentialsSecretRef: { name: "creds", namespace: "other" },
    });
    expect(keys).toEqual(["ns/data", "other/creds"]);
  });
});
