import { randomBytes, randomUUID } from "node:crypto";
import type { MachineClass } from "../../src/api/index.ts";
import type { SecretData } from "../../src/driver/driver.ts";
import { ArmServer } from "./arm/server.ts";

/**
 * The Azure world tests run in: a loopback ARM server with a resource group, a virtual network and
 * subnet, and an app registration in Entra ID whose credentials go into the MachineClass Secret.
 */
export interface AzureWorld {
  readonly arm: ArmServer;
  readonly tenantId: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly resourceGroup: string;
  readonly location: string;
  /** Env naming the server for the plugin (endpoint, authority, CA). */
  readonly env: Record<string, string>;
  secret(userData: string): SecretData;
}

export const AZURE_LOCATION = "westeurope";
export const VNET = "shoot-vnet";
export const SUBNET = "shoot-nodes";

export async function startAzureWorld(opts: { graphPageSize?: number } = {}): Promise<AzureWorld> {
  const arm = await ArmServer.start(opts);
  const tenantId = randomUUID();
  const clientId = randomUUID();
  const clientSecret = randomBytes(24).toString("base64url");
  arm.entra.register({ tenantId, clientId, secret: clientSecret, rights: true });
  const resourceGroup = `shoot--sprout--${randomBytes(3).toString("hex")}`;
  arm.world.addResourceGroup(resourceGroup);
  arm.world.addSubnet(resourceGroup, VNET, SUBNET);
  return {
    arm,
    tenantId,
    clientId,
    clientSecret,
    resourceGroup,
    location: AZURE_LOCATION,
    env: { SPROUT_AZURE_ENDPOINT: arm.url, AZURE_AUTHORITY_HOST: arm.url, SPROUT_AZURE_CA_FILE: arm.caFile },
    secret: (userData) => ({
      clientID: Buffer.from(clientId),
      clientSecret: Buffer.from(clientSecret),
      subscriptionID: Buffer.from(arm.world.subscription),
      tenantID: Buffer.from(tenantId),
      userData: Buffer.from(userData),
    }),
  };
}

/** Gardener's tags of a worker pool's VMs: the cluster's and the node role's keys. */
export const clusterTag = (cluster: string): string => `kubernetes.io-cluster-${cluster}`;
export const ROLE_TAG = "kubernetes.io-role-node";

/** Gardener's Azure providerSpec for the world's subnet, as its provider extension renders it. */
export function azureProviderSpec(world: AzureWorld, cluster: string): Record<string, unknown> {
  return {
    location: world.location,
    resourceGroup: world.resourceGroup,
    subnetInfo: { vnetName: VNET, subnetName: SUBNET },
    tags: { Name: cluster, [clusterTag(cluster)]: "1", [ROLE_TAG]: "1" },
    properties: {
      hardwareProfile: { vmSize: "Standard_D2s_v5" },
      storageProfile: {
        imageReference: { urn: "sap:gardenlinux:greatest:1877.5.0" },
        osDisk: {
          caching: "None",
          diskSizeGB: 50,
          managedDisk: { storageAccountType: "Premium_LRS" },
          createOption: "FromImage",
        },
      },
      osProfile: {
        adminUsername: "core",
        linuxConfiguration: {
          disablePasswordAuthentication: true,
          ssh: {
            publicKeys: {
              path: "/home/core/.ssh/authorized_keys",
              keyData: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIsprout",
            },
          },
        },
      },
      networkProfile: { acceleratedNetworking: false },
      zone: 1,
    },
  };
}

export const azureClass = (
  world: AzureWorld,
  cluster: string,
  overrides: Record<string, unknown> = {},
): MachineClass => ({
  provider: "Azure",
  providerSpec: { ...azureProviderSpec(world, cluster), ...overrides },
});
