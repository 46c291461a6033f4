import { describe, expect, it } from "vitest";
import { mergePatch, objectPatches } from "./patch.ts";

describe("mergePatch", () => {
  it("contains only what changed", () => {
    const before = { spec: { a: 1, b: { c: 2, d: 3 } }, status: { phase: "Pending" } };
    const after = { spec: { a: 1, b: { c: 2, d: 4 } }, status: { phase: "Running" } };
    expect(mergePatch(before, after)).toEqual({ spec: { b: { d: 4 } }, status: { phase: "Running" } });
  });

  it("nulls removed keys and replaces arrays whole", () => {
    expect(mergePatch({ a: 1, list: [1, 2], x: "y" }, { list: [1, 3], x: "y" })).toEqual({
      a: null,
      list: [1, 3],
    });
  });

  it("is undefined when nothing changed, so the write is skipped", () => {
    expect(mergePatch({ a: { b: [1, { c: 2 }] } }, { a: { b: [1, { c: 2 }] } })).toBeUndefined();
  });
});

describe("objectPatches", () => {
  const read = {
    apiVersion: "v1",
    kind: "X",
    metadata: { name: "a", resourceVersion: "7", uid: "u", labels: { a: "1" } },
    spec: { n: 1 },
    status: { phase: "Pending" },
  };

  it("splits metadata and spec from status and leaves server-owned fields out", () => {
    const draft = {
      ...read,
      metadata: { ...read.metadata, resourceVersion: "8", labels: { a: "1", b: "2" } },
      status: { phase: "Running" },
    };
    expect(objectPatches(read, draft)).toEqual({
      object: { metadata: { labels: { b: "2" } } },
      status: { status: { phase: "Running" } },
    });
  });

  it("is empty on both sides when only server-owned fields differ", () => {
    const draft = { ...read, metadata: { ...read.metadata, resourceVersion: "9", generation: 3 } };
    expect(objectPatches(read, draft)).toEqual({ object: undefined, status: undefined });
  });
});
