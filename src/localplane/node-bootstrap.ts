import { type KubeConfig, RbacAuthorizationV1Api, type V1ClusterRoleBinding } from "@kubernetes/client-node";

/**
 * The bindings that let kubelets join with a bootstrap token, as Gardener and kubeadm set them up:
 * bootstrap tokens (group system:bootstrappers) may create CertificateSigningRequests, and their
 * node-client requests are approved automatically; nodes may renew their own certificates.
 * kube-controller-manager's CSR approving and signing controllers do the rest.
 */
export const NODE_BOOTSTRAP_BINDINGS: readonly { readonly role: string; readonly group: string }[] = [
  { role: "system:node-bootstrapper", group: "system:bootstrappers" },
  { role: "system:certificates.k8s.io:certificatesigningrequests:nodeclient", group: "system:bootstrappers" },
  { role: "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", group: "system:nodes" },
];

/** Creates the node-bootstrap ClusterRoleBindings (named after their roles) when they are missing. */
export async function ensureNodeBootstrapBindings(kc: KubeConfig): Promise<void> {
  const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
  for (const { role, group } of NODE_BOOTSTRAP_BINDINGS) {
    const body: V1ClusterRoleBinding = {
      metadata: { name: role },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role },
      subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: group }],
    };
    await rbac.createClusterRoleBinding({ body }).catch((err: unknown) => {
      if ((err as { code?: number }).code !== 409) throw err;
    });
  }
}
