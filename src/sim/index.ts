/**
 * The simulated world, a kwok-like tool for any cloud: the virtual cloud (a process with its own
 * state, and its client) and the kubelet simulator, which boots a Node for every running VM of a
 * feed from the VM's user data, joins it with the bootstrap token through TLS bootstrap and keeps
 * its status and lease, against a real apiserver.
 */
export * from "./cloud/index.ts";
export { startVirtualCloud, type VirtualCloudProcess } from "./cloud/process.ts";
export { kubeletStateIn } from "./node/kubelet-state.ts";
export { nodeApi } from "./node/node-api.ts";
export * from "./node/nodesim.ts";
