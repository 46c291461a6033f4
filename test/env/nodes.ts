import type { NodeApi, NodeStatus, SimNode } from "../../plugins/virtual/src/nodesim.ts";
import { isConflict, type KubeClient } from "../../src/runtime/client/client.ts";
import { Resources } from "../../src/runtime/client/resources.ts";

/** The node simulator's port onto a real target cluster, through the runtime's client. */
export function nodeApi(client: KubeClient): NodeApi {
  return {
    async createNode(node: SimNode) {
      try {
        await client.create(Resources.nodes, { apiVersion: "v1", kind: "Node", ...node });
      } catch (err) {
        if (!isConflict(err)) throw err;
      }
    },
    async patchNodeStatus(name: string, status: Partial<NodeStatus>) {
      await client.patch(Resources.nodes, undefined, name, { status }, "merge", "status");
    },
    async deleteNode(name: string) {
      await client.delete(Resources.nodes, undefined, name);
    },
    async renewLease(name: string, renewTime: string, durationSeconds: number) {
      await client.patch(
        Resources.leases,
        "kube-node-lease",
        name,
        {
          apiVersion: "coordination.k8s.io/v1",
          kind: "Lease",
          metadata: { name, namespace: "kube-node-lease" },
          spec: { holderIdentity: name, leaseDurationSeconds: durationSeconds, renewTime },
        },
        "apply",
      );
    },
  };
}
