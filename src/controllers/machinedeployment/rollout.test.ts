import { describe, expect, it } from "vitest";
import { Annotations } from "../../api/constants.ts";
import { parseTriggerDeletion } from "../../api/trigger-deletion.ts";
import { ownedBySets } from "./autoscaler.ts";
import type { DeploymentObject, SetObject } from "./deps.ts";
import { equalIgnoreHash, templateHash } from "./hash.ts";
import { isScalingEvent, proportions } from "./rollout.ts";
import { maxSurgeOf, maxUnavailableOf } from "./sets.ts";

const template = (cls: string, extra: Record<string, unknown> = {}) => ({
  metadata: { labels: { name: "d" } },
  spec: { class: { kind: "MachineClass", name: cls }, ...extra },
});

const deployment = (replicas: number, strategy: Record<string, unknown> = {}): DeploymentObject => ({
  metadata: { name: "d", namespace: "ns" },
  spec: { replicas, template: template("a"), strategy: { type: "RollingUpdate", ...strategy } },
});

const set = (name: string, replicas: number, maxReplicas: number, desired = replicas): SetObject => ({
  metadata: {
    name,
    creationTimestamp: `2026-01-0${name === "old" ? "1" : "2"}T00:00:00Z`,
    annotations: {
      [Annotations.maxReplicas]: String(maxReplicas),
      [Annotations.desiredReplicas]: String(desired),
    },
  },
  spec: { replicas },
});

describe("surge and unavailability", () => {
  it("rounds percentages like the Deployment controller and never lets both be zero", () => {
    const d = deployment(10, { rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" } });
    expect([maxSurgeOf(d), maxUnavailableOf(d)]).toEqual([3, 2]);
    const zero = deployment(10, { rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } });
    expect(maxUnavailableOf(zero)).toBe(1);
    expect(maxSurgeOf(deployment(10, { type: "Recreate" }))).toBe(0);
  });
});

describe("proportional scaling", () => {
  it("splits a scale-up mid-rollout by each set's share", () => {
    const d = deployment(20, { rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } });
    const old = set("old", 6, 10, 10);
    const current = set("new", 4, 10, 10);
    expect(isScalingEvent(d, [old, current])).toBe(true);
    const next = proportions(d, [old, current]);
    expect([next.get(old), next.get(current)]).toEqual([12, 8]);
  });

  it("splits a scale-down and puts the rest on the largest set", () => {
    const d = deployment(5, { rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } });
    const old = set("old", 7, 10, 10);
    const current = set("new", 3, 10, 10);
    const next = proportions(d, [old, current]);
    expect((next.get(old) ?? 0) + (next.get(current) ?? 0)).toBe(5);
    expect(next.get(old)).toBeGreaterThan(next.get(current) ?? 0);
  });
});

describe("template hash", () => {
  it("ignores what rolls without replacement and changes with the class name", () => {
    const base = template("a");
    expect(equalIgnoreHash(base, template("a", { nodeTemplate: { metadata: { labels: { x: "y" } } } }))).toBe(
      true,
    );
    expect(equalIgnoreHash(base, template("a", { drainTimeout: "1h" }))).toBe(true);
    expect(equalIgnoreHash(base, template("b"))).toBe(false);
    expect(templateHash(base)).toBe(templateHash(template("a", { healthTimeout: "1m" })));
    expect(templateHash(base)).not.toBe(templateHash(base, 1));
    expect(templateHash(base)).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]+$/);
  });
});

describe("trigger-deletion-by-mcm", () => {
  it("parses entries with and without a time", () => {
    expect(parseTriggerDeletion("m1~2026-01-01T00:00:00Z, m2 ,", "NOW")).toEqual([
      { name: "m1", time: "2026-01-01T00:00:00Z" },
      { name: "m2", time: "NOW" },
    ]);
  });
});

describe("trigger-deletion scope", () => {
  const owned = (kind: string, uid: string) => ({
    metadata: { name: "m", ownerReferences: [{ apiVersion: "v1", kind, name: "x", uid, controller: true }] },
    spec: { class: { kind: "MachineClass", name: "c" } },
  });
  const sets: SetObject[] = [{ metadata: { name: "s", uid: "u1" } }];
  it("accepts only machines controlled by one of the deployment's sets", () => {
    expect(ownedBySets(owned("MachineSet", "u1"), sets)).toBe(true);
    expect(ownedBySets(owned("MachineSet", "u2"), sets)).toBe(false);
    expect(ownedBySets(owned("MachineDeployment", "u1"), sets)).toBe(false);
    expect(ownedBySets({ metadata: { name: "orphan" }, spec: owned("", "").spec }, sets)).toBe(false);
  });
});
