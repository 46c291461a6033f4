/** Where sprout's pieces live on a worker node (every format writes the same layout). */
export const NodePaths = {
  kubeletConfig: "/var/lib/kubelet/config.yaml",
  bootstrapKubeconfig: "/var/lib/kubelet/bootstrap-kubeconfig",
  kubeconfig: "/var/lib/kubelet/kubeconfig",
  kubeletCertDir: "/var/lib/kubelet/pki",
  kubeletEnv: "/etc/kubernetes/kubelet.env",
  clusterCa: "/etc/kubernetes/pki/ca.crt",
  containerdConfig: "/etc/containerd/config.toml",
  containerdCertsDir: "/etc/containerd/certs.d",
  sysctls: "/etc/sysctl.d/99-kubernetes.conf",
  kernelModules: "/etc/modules-load.d/kubernetes.conf",
  systemdUnits: "/etc/systemd/system",
} as const;

export const KUBELET_UNIT = "kubelet.service";
export const CONTAINERD_UNIT = "containerd.service";
/** Name of the proxy drop-in of containerd.service and kubelet.service. */
export const PROXY_DROP_IN = "http-proxy.conf";
