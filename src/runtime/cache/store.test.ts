import { describe, expect, it } from "vitest";
import { Indexers, ObjectStore, objectKey, splitKey } from "./store.ts";

const obj = (name: string, rv: string, labels: Record<string, string> = {}, providerID?: string) => ({
  metadata: { name, namespace: "ns", resourceVersion: rv, labels },
  spec: providerID ? { providerID } : {},
});

describe("ObjectStore", () => {
  it("indexes by label and providerID and keeps indexes current", () => {
    const store = new ObjectStore({ pool: Indexers.label("pool"), providerID: Indexers.providerID });
    store.upsert(obj("a", "1", { pool: "x" }, "aws:///a"));
    store.upsert(obj("b", "1", { pool: "x" }));
    expect(store.byIndex("pool", "x").map(objectKey).sort()).toEqual(["ns/a", "ns/b"]);
    store.upsert(obj("a", "2", { pool: "y" }, "aws:///a"));
    expect(store.byIndex("pool", "x").map(objectKey)).toEqual(["ns/b"]);
    expect(store.byIndex("providerID", "aws:///a").map(objectKey)).toEqual(["ns/a"]);
    store.delete(obj("a", "2"));
    expect(store.byIndex("providerID", "aws:///a")).toEqual([]);
    expect(() => store.byIndex("nope", "x")).toThrow("no index named nope");
  });

  it("replace reports additions, changes and deletions", () => {
    const store = new ObjectStore({});
    store.upsert(obj("keep", "1"));
    store.upsert(obj("change", "1"));
    store.upsert(obj("gone", "1"));
    const diff = store.replace([obj("keep", "1"), obj("change", "2"), obj("new", "1")]);
    expect(diff.added.map(objectKey)).toEqual(["ns/new"]);
    expect(diff.updated.map(([, n]) => objectKey(n))).toEqual(["ns/change"]);
    expect(diff.deleted.map(objectKey)).toEqual(["ns/gone"]);
    expect(store.size).toBe(3);
  });

  it("splits keys", () => {
    expect(splitKey("ns/a")).toEqual({ namespace: "ns", name: "a" });
    expect(splitKey("node-1")).toEqual({ namespace: undefined, name: "node-1" });
  });
});
