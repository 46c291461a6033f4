import { randomBytes, randomUUID } from "node:crypto";
import type { Driver, SecretData } from "../../src/driver/driver.ts";
import { DriverRegistry } from "../../src/driver/registry.ts";
import { DISK_TYPE, NIC_TYPE, VM_TYPE } from "../env/arm/world.ts";
import { type AzureWorld, azureClass, azureProviderSpec, clusterTag, ROLE_TAG } from "../env/azure.ts";
import { type ConformanceTarget, type ErrorCase, testMachine } from "./suite.ts";

export const USER_DATA = "#cloud-config\nruncmd:\n- echo joined by sprout\n";
/** Resource Graph's page size for the driver: listing 11 VMs (and their NICs and disks) takes several pages. */
const PAGE_SIZE = 5;

/** The Azure plugin on the loopback ARM server, described for the conformance suite. */
export async function azureConformance(
  world: AzureWorld,
): Promise<{ target: ConformanceTarget; driver: Driver }> {
  const { arm } = world;
  const registry = new DriverRegistry({
    context: { env: { ...world.env, SPROUT_AZURE_PAGE_SIZE: String(PAGE_SIZE) } },
  });
  const driver = await registry.driverFor("Azure");
  const unreachable = await new DriverRegistry({
    context: {
      env: {
        ...world.env,
        SPROUT_AZURE_ENDPOINT: "https://127.0.0.1:9",
        AZURE_AUTHORITY_HOST: "https://127.0.0.1:9",
      },
    },
  }).driverFor("Azure");
  const secret = world.secret(USER_DATA);
  const noRights = {
    tenantId: world.tenantId,
    clientId: randomUUID(),
    secret: randomBytes(16).toString("hex"),
    rights: false,
  };
  arm.entra.register(noRights);
  const machineClass = (cluster: string, overrides: Record<string, unknown> = {}) =>
    azureClass(world, cluster, overrides);
  const create = (cluster: string, spec: Record<string, unknown> = {}, s: SecretData = secret) =>
    driver.createMachine({
      machine: testMachine(`err-${randomBytes(3).toString("hex")}`),
      machineClass: machineClass(cluster, spec),
      secret: s,
    });
  const status = (cluster: string, s: SecretData = secret, d: Driver = driver) =>
    d.getMachineStatus({
      machine: testMachine("err-status"),
      machineClass: machineClass(cluster),
      secret: s,
    });
  const properties = (cluster: string) =>
    azureProviderSpec(world, cluster).properties as Record<string, unknown>;
  const vmFault = (code: string, message?: string) =>
    arm.inject({
      resource: "virtualMachines",
      method: "PUT",
      asyncFailure: true,
      code,
      times: 1,
      ...(message ? { message } : {}),
    });

  const errorCases: ErrorCase[] = [
    {
      what: "a providerSpec without virtual network",
      code: "InvalidArgument",
      call: (c) => create(c, { subnetInfo: { subnetName: "x" } }),
      message: /providerSpec\.subnetInfo\.vnetName: required/,
    },
    {
      what: "a Secret without client ID",
      code: "InvalidArgument",
      call: (c) => create(c, {}, { ...secret, clientID: Buffer.from("") }),
      message: /clientID \(or azureClientId\) is required/,
    },
    {
      what: "a subnet that does not exist",
      code: "NotFound",
      call: (c) => create(c, { subnetInfo: { vnetName: "nope", subnetName: "nope" } }),
      message: /providerSpec\.subnetInfo/,
    },
    {
      what: "an image that does not exist",
      code: "NotFound",
      call: (c) => {
        const p = properties(c);
        const storage = p.storageProfile as Record<string, unknown>;
        return create(c, {
          properties: {
            ...p,
            storageProfile: { ...storage, imageReference: { urn: "missing:offer:sku:1.0" } },
          },
        });
      },
    },
    {
      what: "ZonalAllocationFailed",
      code: "ResourceExhausted",
      call: (c) => (vmFault("ZonalAllocationFailed"), create(c)),
      message: /ZonalAllocationFailed.*providerSpec\.properties\.hardwareProfile\.vmSize/,
    },
    {
      what: "SkuNotAvailable",
      code: "ResourceExhausted",
      call: (c) => (
        arm.inject({
          resource: "virtualMachines",
          method: "PUT",
          status: 409,
          code: "SkuNotAvailable",
          times: 1,
        }),
        create(c)
      ),
    },
    {
      what: "a core quota reached",
      code: "ResourceExhausted",
      call: (c) => (
        arm.inject({
          resource: "virtualMachines",
          method: "PUT",
          status: 409,
          code: "OperationNotAllowed",
          message:
            "Operation could not be completed as it results in exceeding approved standardDSv5Family Cores quota.",
          times: 1,
        }),
        create(c)
      ),
    },
    {
      what: "throttling that outlasts the backoff",
      code: "Unavailable",
      call: (c) => (
        arm.inject({
          resource: "virtualMachines",
          method: "GET",
          status: 429,
          code: "TooManyRequests",
          retryAfter: 17,
        }),
        status(c)
      ),
      message: /TooManyRequests.*Retry-After: 17s/,
    },
    {
      what: "an unreachable endpoint",
      code: "Unavailable",
      call: (c) => status(c, secret, unreachable),
      message: /unreachable/,
    },
    {
      what: "an operation that fails inside Azure",
      code: "Internal",
      call: (c) => (vmFault("InternalExecutionError"), create(c)),
    },
    {
      what: "a client secret Entra ID does not accept",
      code: "Unauthenticated",
      call: (c) => status(c, { ...secret, clientSecret: Buffer.from(randomBytes(16).toString("hex")) }),
      message: /Entra ID refused the credentials/,
    },
    {
      what: "a client without rights on the subscription",
      code: "PermissionDenied",
      call: (c) =>
        status(c, {
          ...secret,
          clientID: Buffer.from(noRights.clientId),
          clientSecret: Buffer.from(noRights.secret),
        }),
      message: /AuthorizationFailed/,
    },
  ];

  const vmsOf = (cluster: string, name: string) =>
    arm.world
      .all(VM_TYPE, world.resourceGroup)
      .filter((r) => r.name === name && clusterTag(cluster) in r.tags);
  const withDataDisk = () => {
    const p = properties("any");
    const storage = p.storageProfile as Record<string, unknown>;
    return {
      ...p,
      storageProfile: {
        ...storage,
        dataDisks: [{ name: "data", lun: 0, diskSizeGB: 10, storageAccountType: "StandardSSD_LRS" }],
      },
    };
  };
  const stray = (cluster: string, name: string) => {
    const { resource } = arm.world.putNic(world.resourceGroup, `${name}-nic`, {
      location: world.location,
      tags: { [clusterTag(cluster)]: "1", [ROLE_TAG]: "1" },
      properties: {
        ipConfigurations: [
          {
            name: "ip",
            properties: {
              subnet: {
                id: arm.world.all("Microsoft.Network/virtualNetworks/subnets", world.resourceGroup)[0]?.id,
              },
            },
          },
        ],
      },
    });
    arm.world.putVm(world.resourceGroup, name, {
      location: world.location,
      tags: { [clusterTag(cluster)]: "1", [ROLE_TAG]: "1" },
      properties: {
        hardwareProfile: { vmSize: "Standard_D2s_v5" },
        storageProfile: {
          osDisk: { name: `${name}-os-disk`, createOption: "FromImage", deleteOption: "Delete" },
        },
        networkProfile: {
          networkInterfaces: [{ id: resource.id, properties: { primary: true, deleteOption: "Delete" } }],
        },
      },
    });
  };

  const target: ConformanceTarget = {
    name: "azure on the loopback ARM server",
    driver,
    secret,
    machineClass,
    oneVmPerName: true,
    vmsNamed: (cluster, name) => Promise.resolve(vmsOf(cluster, name).map((r) => r.name)),
    strayVm: (cluster, name) => Promise.resolve(stray(cluster, name)),
    loseNextCreateAnswer() {
      arm.inject({ resource: "virtualMachines", method: "PUT", loseAnswer: true, times: 1 });
      return Promise.resolve();
    },
    clearFaults() {
      arm.faults.clear();
      return Promise.resolve();
    },
    volumes: {
      pvSpecs: [
        {
          csi: {
            driver: "disk.csi.azure.com",
            volumeHandle: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/disks/pv-1",
          },
        },
        {
          azureDisk: {
            diskName: "pv-2",
            diskURI: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/disks/pv-2",
          },
        },
        { csi: { driver: "ebs.csi.aws.com", volumeHandle: "vol-0a1b2c3d4e5f60718" } },
        { hostPath: { path: "/data" } },
      ],
      expected: ["/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/disks/pv-1", "pv-2"],
    },
    errorCases,
    listPageSize: PAGE_SIZE,
    listPages: () => Promise.resolve(arm.faults.calls("resourceGraph", "POST")),
    dependents: {
      // The class with one empty data disk more, so that a NIC, an OS disk and a data disk are made.
      providerSpec: { properties: withDataDisk() },
      of: (_cluster, name) =>
        Promise.resolve(
          [...arm.world.all(NIC_TYPE, world.resourceGroup), ...arm.world.all(DISK_TYPE, world.resourceGroup)]
            .filter((r) => r.name.startsWith(`${name}-`))
            .map((r) => r.name),
        ),
      failNextCreateHalfway() {
        vmFault("AllocationFailed");
        return Promise.resolve();
      },
      removeVmOnly(cluster, name) {
        for (const vm of vmsOf(cluster, name))
          arm.world.deleteVm(world.resourceGroup, vm.name, { cascade: false });
        return Promise.resolve();
      },
    },
  };
  return { target, driver };
}
