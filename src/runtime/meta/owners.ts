/** An owner reference (metav1.OwnerReference). */
export interface OwnerRef {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

interface Owned {
  metadata?: { name?: string; namespace?: string; uid?: string; ownerReferences?: OwnerRef[] };
}

/** The owner reference with controller: true, if any. */
export const controllerRefOf = (obj: Owned): OwnerRef | undefined =>
  obj.metadata?.ownerReferences?.find((r) => r.controller === true);

/** A controller owner reference to `owner`, an object of the given apiVersion and kind. */
export function controllerRefTo(apiVersion: string, kind: string, owner: Owned): OwnerRef {
  return {
    apiVersion,
    kind,
    name: owner.metadata?.name ?? "",
    uid: owner.metadata?.uid ?? "",
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** The namespace/name key of the object's controller of the given kind, if any. */
export function controllerKeyOf(obj: Owned, kind: string): string | undefined {
  const ref = controllerRefOf(obj);
  return ref?.kind === kind ? `${obj.metadata?.namespace ?? ""}/${ref.name}` : undefined;
}
