import type { NodeApi, NodeStatus, SimNode } from "../../plugins/virtual/src/nodesim.ts";
import { isConflict, type KubeClient } from "../runtime/client/client.ts";
import { Resources } from "../runtime/client/resources.ts";

/** The node simulator's port onto a real target cluster, through the runtime's client. */
export function nodeApi(client: KubeClient): NodeApi {
  type Pod = {
    metadata?: { name?: string; namespace?: string; deletionTimestamp?: string };
    spec?: { nodeName?: string };
    status?: { phase?: string };
  };
  return {
    async boundPods() {
      const pods = await client.list<Pod>(Resources.pods);
      return pods.items
        .filter((p) => p.spec?.nodeName)
        .map((p) => ({
          namespace: p.metadata?.namespace ?? "",
          name: p.metadata?.name ?? "",
          nodeName: p.spec?.nodeName ?? "",
          phase: p.status?.phase ?? "Pending",
          deleting: Boolean(p.metadata?.deletionTimestamp),
        }));
    },
    async startPod(namespace: string, name: string) {
      const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
      const ready = ["Initialized", "ContainersReady", "Ready", "PodScheduled"].map((type) => ({
        type,
        status: "True",
        lastTransitionTime: now,
      }));
      await client.patch(
        Resources.pods,
        namespace,
        name,
        { status: { phase: "Running", startTime: now, conditions: ready } },
        "merge",
        "status",
      );
    },
    async removePod(namespace: string, name: string) {
      await client.delete(Resources.pods, namespace, name, { gracePeriodSeconds: 0 });
    },
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
