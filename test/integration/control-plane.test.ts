import {
  ApiextensionsV1Api,
  AuthenticationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  PatchStrategy,
  RbacAuthorizationV1Api,
  setHeaderOptions,
  Watch,
} from "@kubernetes/client-node";
import { beforeAll, describe, expect, it } from "vitest";
import {
  adminKubeConfig,
  eventually,
  failureStatus,
  testCrd,
  testNamespace,
  tokenKubeConfig,
  uniqueName,
} from "../env/index.ts";

let admin: KubeConfig;
let core: CoreV1Api;
let ns: string;

beforeAll(async () => {
  admin = await adminKubeConfig();
  core = admin.makeApiClient(CoreV1Api);
  ns = await testNamespace("plane");
});

async function whoAmI(kc: KubeConfig): Promise<{ username?: string; groups?: string[] }> {
  const review = await kc.makeApiClient(AuthenticationV1Api).createSelfSubjectReview({ body: {} });
  return review.status?.userInfo ?? {};
}

describe("the local control plane is a real Kubernetes API", () => {
  it("serves a new CRD and streams watch events for its objects", async () => {
    const group = `${uniqueName("g")}.sprout.test`;
    const crds = admin.makeApiClient(ApiextensionsV1Api);
    await crds.createCustomResourceDefinition({
      body: testCrd(group, "Widget", {
        type: "object",
        properties: { spec: { type: "object", properties: { size: { type: "integer" } } } },
      }),
    });
    await eventually(async () => {
      const crd = await crds.readCustomResourceDefinitionStatus({ name: `widgets.${group}` });
      expect(crd.status?.conditions).toContainEqual(
        expect.objectContaining({ type: "Established", status: "True" }),
      );
    });
    const custom = admin.makeApiClient(CustomObjectsApi);
    const widget = { group, version: "v1", namespace: ns, plural: "widgets" };
    await eventually(() =>
      custom.createNamespacedCustomObject({
        ...widget,
        body: { apiVersion: `${group}/v1`, kind: "Widget", metadata: { name: "w1" }, spec: { size: 3 } },
      }),
    );
    // A watch on a brand-new resource answers 429 until the apiserver's watch cache is initialised,
    // as on any cluster; a client retries.
    await eventually(async () => {
      const seen: string[] = [];
      const watch = await new Watch(admin).watch(
        `/apis/${group}/v1/namespaces/${ns}/widgets`,
        {},
        (type: string, obj: { metadata?: { name?: string } }) => seen.push(`${type} ${obj.metadata?.name}`),
        () => undefined,
      );
      try {
        await eventually(() => expect(seen).toContain("ADDED w1"), { timeoutMs: 2000 });
        await custom.patchNamespacedCustomObject(
          { ...widget, name: "w1", body: [{ op: "replace", path: "/spec/size", value: 5 }] },
          setHeaderOptions("Content-Type", PatchStrategy.JsonPatch),
        );
        await eventually(() => expect(seen).toContain("MODIFIED w1"), { timeoutMs: 5000 });
      } finally {
        watch.abort();
      }
    });
    await crds.deleteCustomResourceDefinition({ name: `widgets.${group}` });
  });

  it("denies an unprivileged ServiceAccount by RBAC and allows what a Role grants", async () => {
    const name = uniqueName("sa");
    await core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name } } });
    const request = await core.createNamespacedServiceAccountToken({
      name,
      namespace: ns,
      body: { spec: { expirationSeconds: 600, audiences: [] } },
    });
    const token = request.status?.token;
    expect(token).toBeTruthy();
    const sa = tokenKubeConfig(admin, token ?? "");
    expect((await whoAmI(sa)).username).toBe(`system:serviceaccount:${ns}:${name}`);
    const saCore = sa.makeApiClient(CoreV1Api);
    expect(await failureStatus(saCore.listNamespacedSecret({ namespace: ns }))).toBe(403);
    expect(await failureStatus(saCore.listNamespacedConfigMap({ namespace: ns }))).toBe(403);

    const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({
      namespace: ns,
      body: {
        metadata: { name },
        rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["list"] }],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: ns,
      body: {
        metadata: { name },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
        subjects: [{ kind: "ServiceAccount", name, namespace: ns }],
      },
    });
    await eventually(() => saCore.listNamespacedConfigMap({ namespace: ns }));
    expect(await failureStatus(saCore.listNamespacedSecret({ namespace: ns }))).toBe(403);
  });

  it("garbage-collects dependents when their owner is deleted", async () => {
    const owner = await core.createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { name: uniqueName("owner") } },
    });
    const ownerName = owner.metadata?.name ?? "";
    const dependent = await core.createNamespacedConfigMap({
      namespace: ns,
      body: {
        metadata: {
          name: uniqueName("dependent"),
          ownerReferences: [
            { apiVersion: "v1", kind: "ConfigMap", name: ownerName, uid: owner.metadata?.uid ?? "" },
          ],
        },
      },
    });
    const dependentName = dependent.metadata?.name ?? "";
    await core.readNamespacedConfigMap({ namespace: ns, name: dependentName });
    await core.deleteNamespacedConfigMap({ namespace: ns, name: ownerName });
    await eventually(
      async () =>
        expect(
          await failureStatus(core.readNamespacedConfigMap({ namespace: ns, name: dependentName })),
        ).toBe(404),
      { timeoutMs: 60_000 },
    );
  });

  it("finishes deleting a namespace that holds objects", async () => {
    const name = uniqueName("doomed");
    await core.createNamespace({ body: { metadata: { name } } });
    await core.createNamespacedConfigMap({ namespace: name, body: { metadata: { name: "content" } } });
    await core.deleteNamespace({ name });
    await eventually(async () => expect(await failureStatus(core.readNamespace({ name }))).toBe(404), {
      timeoutMs: 60_000,
    });
  });
});

describe("bootstrap tokens", () => {
  const tokenSecret = (id: string, secret: string, expiration: Date) => ({
    metadata: { name: `bootstrap-token-${id}`, namespace: "kube-system" },
    type: "bootstrap.kubernetes.io/token",
    stringData: {
      "token-id": id,
      "token-secret": secret,
      expiration: expiration.toISOString().replace(/\.\d+Z$/, "Z"),
      "usage-bootstrap-authentication": "true",
      "usage-bootstrap-signing": "true",
    },
  });
  const randomId = (length: number): string =>
    Array.from({ length }, () => "abcdefghijklmnopqrstuvwxyz0123456789"[Math.floor(Math.random() * 36)]).join(
      "",
    );

  it("authenticate a request as system:bootstrap:<id> and are signed into cluster-info", async () => {
    const id = randomId(6);
    const secret = randomId(16);
    await core.createNamespacedSecret({
      namespace: "kube-system",
      body: tokenSecret(id, secret, new Date(Date.now() + 3600_000)),
    });
    const user = await whoAmI(tokenKubeConfig(admin, `${id}.${secret}`));
    expect(user.username).toBe(`system:bootstrap:${id}`);
    expect(user.groups).toContain("system:bootstrappers");
    expect(await failureStatus(whoAmI(tokenKubeConfig(admin, `${id}.${randomId(16)}`)))).toBe(401);
    await eventually(async () => {
      const info = await core.readNamespacedConfigMap({ namespace: "kube-public", name: "cluster-info" });
      expect(Object.keys(info.data ?? {})).toContain(`jws-kubeconfig-${id}`);
    });
    await core.deleteNamespacedSecret({ namespace: "kube-system", name: `bootstrap-token-${id}` });
  });

  it("disappear once expired (token cleaner)", async () => {
    const id = randomId(6);
    const name = `bootstrap-token-${id}`;
    await core.createNamespacedSecret({
      namespace: "kube-system",
      body: tokenSecret(id, randomId(16), new Date(Date.now() + 3_000)),
    });
    await eventually(
      async () =>
        expect(await failureStatus(core.readNamespacedSecret({ namespace: "kube-system", name }))).toBe(404),
      { timeoutMs: 60_000 },
    );
  });
});
