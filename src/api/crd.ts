import type { TSchema } from "@sinclair/typebox";
import { GROUP, VERSION } from "./constants.ts";
import { MachineSchema } from "./v1alpha1/machine.ts";
import { MachineClassSchema } from "./v1alpha1/machineclass.ts";
import { MachineDeploymentSchema } from "./v1alpha1/machinedeployment.ts";
import { MachineSetSchema } from "./v1alpha1/machineset.ts";

/** A JSON object as it goes into a CRD's openAPIV3Schema. */
export type JsonSchema = { [key: string]: unknown };

/** Keys of a TypeBox schema that are valid in a Kubernetes structural schema. */
const KEPT = new Set([
  "type",
  "format",
  "description",
  "default",
  "enum",
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
  "minLength",
  "maxLength",
  "pattern",
  "minItems",
  "maxItems",
  "uniqueItems",
  "minProperties",
  "maxProperties",
  "required",
  "nullable",
]);

/**
 * Turns a TypeBox schema into a Kubernetes structural OpenAPI v3 schema: record types become
 * additionalProperties, literal unions become enums, x-kubernetes-* extensions pass through, and
 * TypeBox's own bookkeeping (symbols, $id) is dropped.
 */
export function toStructural(schema: TSchema | JsonSchema): JsonSchema {
  const s = schema as JsonSchema;
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(s)) {
    if (KEPT.has(key) || key.startsWith("x-kubernetes-")) out[key] = value;
  }
  Object.assign(out, alternatives(s));
  const props = s.properties as Record<string, JsonSchema> | undefined;
  if (props) out.properties = Object.fromEntries(Object.entries(props).map(([k, v]) => [k, toStructural(v)]));
  const patternProps = s.patternProperties as Record<string, JsonSchema> | undefined;
  const valueSchema = patternProps ? Object.values(patternProps)[0] : undefined;
  if (valueSchema) out.additionalProperties = toStructural(valueSchema);
  if (s.items) out.items = toStructural(s.items as JsonSchema);
  if (Array.isArray(out.required) && out.required.length === 0) delete out.required;
  return out;
}

/** Literal unions and constants become enums; other anyOf (int-or-string) stay. */
function alternatives(s: JsonSchema): JsonSchema {
  const anyOf = s.anyOf as JsonSchema[] | undefined;
  if (anyOf?.every((a) => a.const !== undefined)) {
    return {
      type: typeof anyOf[0]?.const === "number" ? "integer" : "string",
      enum: anyOf.map((a) => a.const),
    };
  }
  if (anyOf) return { anyOf: anyOf.map(toStructural) };
  if (s.const !== undefined) return { enum: [s.const] };
  return {};
}

interface PrinterColumn {
  readonly name: string;
  readonly type: "string" | "integer" | "date" | "boolean" | "number";
  readonly jsonPath: string;
  readonly description: string;
  readonly priority?: number;
}

export interface KindDefinition {
  readonly kind: string;
  readonly plural: string;
  readonly singular: string;
  readonly shortName: string;
  readonly schema: TSchema;
  readonly status: boolean;
  readonly scale: boolean;
  readonly columns: readonly PrinterColumn[];
}

const age: PrinterColumn = {
  name: "Age",
  type: "date",
  jsonPath: ".metadata.creationTimestamp",
  description: "Time since the object was created.",
};

/** The four kinds of machine.sapcloud.io/v1alpha1. */
export const KINDS: readonly KindDefinition[] = [
  {
    kind: "MachineClass",
    plural: "machineclasses",
    singular: "machineclass",
    shortName: "mcc",
    schema: MachineClassSchema,
    status: false,
    scale: false,
    columns: [
      { name: "Provider", type: "string", jsonPath: ".provider", description: "Driver plugin of the class." },
      age,
    ],
  },
  {
    kind: "MachineDeployment",
    plural: "machinedeployments",
    singular: "machinedeployment",
    shortName: "mcd",
    schema: MachineDeploymentSchema,
    status: true,
    scale: true,
    columns: [
      { name: "Ready", type: "integer", jsonPath: ".status.readyReplicas", description: "Machines Running." },
      { name: "Desired", type: "integer", jsonPath: ".spec.replicas", description: "Desired machines." },
      {
        name: "Up-to-date",
        type: "integer",
        jsonPath: ".status.updatedReplicas",
        description: "Machines with the current template.",
      },
      {
        name: "Available",
        type: "integer",
        jsonPath: ".status.availableReplicas",
        description: "Machines available for at least minReadySeconds.",
      },
      age,
    ],
  },
  {
    kind: "MachineSet",
    plural: "machinesets",
    singular: "machineset",
    shortName: "mcs",
    schema: MachineSetSchema,
    status: true,
    scale: true,
    columns: [
      { name: "Desired", type: "integer", jsonPath: ".spec.replicas", description: "Desired machines." },
      { name: "Current", type: "integer", jsonPath: ".status.replicas", description: "Machines owned." },
      { name: "Ready", type: "integer", jsonPath: ".status.readyReplicas", description: "Machines Running." },
      age,
    ],
  },
  {
    kind: "Machine",
    plural: "machines",
    singular: "machine",
    shortName: "mc",
    schema: MachineSchema,
    status: true,
    scale: false,
    columns: [
      {
        name: "Status",
        type: "string",
        jsonPath: ".status.currentStatus.phase",
        description: "Phase of the machine.",
      },
      age,
      {
        name: "Node",
        type: "string",
        jsonPath: ".metadata.labels.node",
        description: "Node backing the machine.",
      },
      {
        name: "ProviderID",
        type: "string",
        jsonPath: ".spec.providerID",
        description: "Provider ID of the VM backing the machine.",
        priority: 1,
      },
    ],
  },
];

/** The CustomResourceDefinition object of one kind. */
export function crdFor(def: KindDefinition): JsonSchema {
  const subresources: JsonSchema = {};
  if (def.status) subresources.status = {};
  if (def.scale) {
    subresources.scale = {
      specReplicasPath: ".spec.replicas",
      statusReplicasPath: ".status.replicas",
      labelSelectorPath: ".status.labelSelector",
    };
  }
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${def.plural}.${GROUP}` },
    spec: {
      group: GROUP,
      names: {
        kind: def.kind,
        listKind: `${def.kind}List`,
        plural: def.plural,
        singular: def.singular,
        shortNames: [def.shortName],
      },
      scope: "Namespaced",
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: toStructural(def.schema) },
          ...(Object.keys(subresources).length > 0 ? { subresources } : {}),
          additionalPrinterColumns: def.columns,
        },
      ],
    },
  };
}

export function crds(): JsonSchema[] {
  return KINDS.map(crdFor);
}
