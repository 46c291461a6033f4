import { readFileSync } from "node:fs";
import type { NodeApi, NodeCredentials, NodeStatus, SimNode } from "./types.ts";
import { isConflict, KubeClient } from "../../runtime/client/client.ts";
import { Resources } from "../../runtime/client/resources.ts";
import { kubeConfigFor, kubeletTlsBootstrap } from "./kubelet-tls.ts";

/** The server and CA of a client's current cluster. */
function clusterOf(client: KubeClient): { server: string; caPem: string } {
  const cluster = client.kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error("the node simulator's kubeconfig has no current cluster");
  const caPem = cluster.caData
    ? Buffer.from(cluster.caData, "base64").toString()
    : cluster.caFile
      ? readFileSync(cluster.caFile, "utf8")
      : "";
  return { server: cluster.server, caPem };
}

/**
 * The node simulator's port onto a real target cluster, through the runtime's client. Kubelets
 * with a bootstrap token go through TLS bootstrap and register their Node with their own
 * certificate; status, leases and pods then use the shared client.
 */
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
    tlsBootstrap(name, input, signal) {
      return kubeletTlsBootstrap(name, input, clusterOf(client), signal);
    },
    async createNode(node: SimNode, as?: NodeCredentials) {
      // A kubelet writes as itself (system:node:<name>), with its own field manager.
      const writer = as
        ? new KubeClient(kubeConfigFor(as.server, as.caPem, as), { fieldManager: "kubelet" })
        : client;
      try {
        await writer.create(Resources.nodes, { apiVersion: "v1", kind: "Node", ...node });
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
