import { readFileSync } from "node:fs";
import type { DriverPlugin } from "sprout/driver";
import { AzureDriver } from "./driver.ts";

/**
 * The Azure plugin: serves MachineClasses with provider "Azure". ARM and Microsoft Entra ID are the
 * endpoints of the providerSpec's cloudConfiguration (AzurePublic unless named), unless
 * SPROUT_AZURE_ENDPOINT and AZURE_AUTHORITY_HOST name others (an emulator, a private cloud), whose
 * certificates SPROUT_AZURE_CA_FILE may name the CA of.
 */
const plugin: DriverPlugin = {
  name: "azure",
  create: (ctx) => {
    const endpoint = ctx.env.SPROUT_AZURE_ENDPOINT;
    const authorityHost = ctx.env.AZURE_AUTHORITY_HOST ?? endpoint;
    const caFile = ctx.env.SPROUT_AZURE_CA_FILE;
    const pageSize = Number(ctx.env.SPROUT_AZURE_PAGE_SIZE ?? "") || undefined;
    return new AzureDriver({
      metrics: ctx.metrics,
      ...(endpoint ? { endpoint } : {}),
      ...(authorityHost ? { authorityHost } : {}),
      ...(caFile ? { caPem: readFileSync(caFile, "utf8") } : {}),
      ...(pageSize ? { pageSize } : {}),
    });
  },
};
export default plugin;
