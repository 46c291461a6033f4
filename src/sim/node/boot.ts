import { type NodeJoin, nodeJoinOf, readUserData } from "../../bootstrap/index.ts";

const stamp = (): string => new Date().toISOString().replace(/\.\d+Z$/, "Z");

/**
 * What a virtual machine finds in its user data when it boots: how its kubelet joins (the
 * bootstrap kubeconfig or token, node labels and taints), and the console lines saying so.
 */
export function bootFromUserData(userDataBase64: string): { join: NodeJoin | undefined; log: string[] } {
  const view = readUserData(Buffer.from(userDataBase64, "base64"));
  const join = nodeJoinOf(view);
  const lines = [`user data: ${view.format}, ${view.files.size} files`];
  if (!join) lines.push("kubelet: no bootstrap kubeconfig or token in the user data");
  else {
    lines.push(`kubelet: bootstrap settings from ${join.source}`);
    if (join.server) lines.push(`kubelet: apiserver ${join.server}`);
  }
  return { join, log: lines.map((l) => `${stamp()} ${l}`) };
}
