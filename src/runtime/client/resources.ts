/** Identifies a Kubernetes resource (group, version, plural) and whether it lives in namespaces. */
export interface ResourceRef {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly kind: string;
  readonly namespaced: boolean;
}

export function resourcePath(
  ref: ResourceRef,
  namespace?: string,
  name?: string,
  subresource?: string,
): string {
  const base = ref.group === "" ? `/api/${ref.version}` : `/apis/${ref.group}/${ref.version}`;
  const ns = ref.namespaced && namespace ? `/namespaces/${namespace}` : "";
  const tail = name ? `/${encodeURIComponent(name)}${subresource ? `/${subresource}` : ""}` : "";
  return `${base}${ns}/${ref.plural}${tail}`;
}

export function apiVersionOf(ref: ResourceRef): string {
  return ref.group === "" ? ref.version : `${ref.group}/${ref.version}`;
}

const core = (plural: string, kind: string, namespaced = true): ResourceRef => ({
  group: "",
  version: "v1",
  plural,
  kind,
  namespaced,
});

/** Resources the runtime and the controllers use. */
export const Resources = {
  namespaces: core("namespaces", "Namespace", false),
  nodes: core("nodes", "Node", false),
  pods: core("pods", "Pod"),
  secrets: core("secrets", "Secret"),
  configMaps: core("configmaps", "ConfigMap"),
  persistentVolumes: core("persistentvolumes", "PersistentVolume", false),
  persistentVolumeClaims: core("persistentvolumeclaims", "PersistentVolumeClaim"),
  leases: { group: "coordination.k8s.io", version: "v1", plural: "leases", kind: "Lease", namespaced: true },
  events: { group: "events.k8s.io", version: "v1", plural: "events", kind: "Event", namespaced: true },
  podDisruptionBudgets: {
    group: "policy",
    version: "v1",
    plural: "poddisruptionbudgets",
    kind: "PodDisruptionBudget",
    namespaced: true,
  },
  volumeAttachments: {
    group: "storage.k8s.io",
    version: "v1",
    plural: "volumeattachments",
    kind: "VolumeAttachment",
    namespaced: false,
  },
} as const satisfies Record<string, ResourceRef>;
