import { type Static, Type } from "@sinclair/typebox";
import { cel, Opaque, ResourceList, SecretReference } from "../schema.ts";
import { objectHeader } from "./object.ts";

/** MachineClass.nodeTemplate: the shape of a node, so the autoscaler can scale a pool up from zero. */
export const MachineClassNodeTemplate = Type.Object(
  {
    architecture: Type.Optional(Type.String({ description: "CPU architecture, e.g. amd64 or arm64." })),
    capacity: ResourceList("Capacity of a node of this class; must name cpu, gpu and memory."),
    instanceType: Type.String({ description: "Instance type of the VM." }),
    region: Type.String({ description: "Region of the VM." }),
    virtualCapacity: Type.Optional(
      ResourceList("Extended resources added to the Node's capacity (virtual resources)."),
    ),
    zone: Type.String({ description: "Zone of the VM." }),
  },
  {
    description: "Node shape used by the cluster-autoscaler to scale a node group up from zero.",
    "x-kubernetes-preserve-unknown-fields": true,
    ...cel({
      rule: "['cpu', 'gpu', 'memory'].all(r, r in self.capacity)",
      message: "capacity must name cpu, gpu and memory",
      fieldPath: ".capacity",
    }),
  },
);

export const MachineClassSchema = Type.Object(
  {
    ...objectHeader,
    providerSpec: Opaque("Provider-specific configuration of the VM, validated by the provider's driver."),
    provider: Type.Optional(
      Type.String({
        description: "Name of the driver plugin that creates the machines, e.g. AWS, Azure, virtual.",
      }),
    ),
    secretRef: Type.Optional(
      SecretReference("Secret with the user data (key userData) and, optionally, credentials."),
    ),
    credentialsSecretRef: Type.Optional(
      SecretReference("Secret with the cloud credentials; its keys are merged over secretRef's."),
    ),
    nodeTemplate: Type.Optional(MachineClassNodeTemplate),
  },
  {
    description:
      "MachineClass holds the provider configuration that Machines, MachineSets and MachineDeployments are created from. Its fields are top-level: there is no spec.",
  },
);
export type MachineClass = Static<typeof MachineClassSchema>;
