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

  it("keeps an object an indexer throws on, out of that index only, and reports it once per version", () => {
    const reported: string[] = [];
    type Spec = { spec?: { class?: { name: string } } };
    const store = new ObjectStore<ReturnType<typeof obj> & Spec>(
      {
        // The indexer as written for valid objects: spec.class is required by the CRD.
        class: (o) => [(o.spec as { class: { name: string } }).class.name],
        pool: Indexers.label("pool"),
      },
      (index, o) => reported.push(`${index}:${objectKey(o)}@${o.metadata.resourceVersion}`),
    );
    store.upsert({ ...obj("bad", "1", { pool: "x" }) });
    store.upsert({ ...obj("good", "1", { pool: "x" }), spec: { class: { name: "c" } } });
    store.upsert({ ...obj("bad", "1", { pool: "x" }) });
    expect(store.get("ns/bad")).toBeDefined();
    expect(store.byIndex("pool", "x").map(objectKey).sort()).toEqual(["ns/bad", "ns/good"]);
    expect(store.byIndex("class", "c").map(objectKey)).toEqual(["ns/good"]);
    store.upsert({ ...obj("bad", "2", { pool: "y" }) });
    store.upsert({ ...obj("bad", "3", { pool: "y" }), spec: { class: { name: "c" } } });
    expect(store.byIndex("class", "c").map(objectKey).sort()).toEqual(["ns/bad", "ns/good"]);
    expect(reported).toEqual(["class:ns/bad@1", "class:ns/bad@2"]);
    const odd = new ObjectStore<ReturnType<typeof obj>>({ odd: () => "x" as unknown as string[] });
    odd.upsert(obj("a", "1"));
    expect(odd.byIndex("odd", "x")).toEqual([]);
  });

  it("splits keys", () => {
    expect(splitKey("ns/a")).toEqual({ namespace: "ns", name: "a" });
    expect(splitKey("node-1")).toEqual({ namespace: undefined, name: "node-1" });
  });
});
