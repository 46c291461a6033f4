import type { DriverPlugin } from "sprout/driver";
import { VirtualDriver } from "./driver.ts";

/** The virtual cloud plugin: serves MachineClasses with provider "virtual". */
const plugin: DriverPlugin = {
  name: "virtual",
  create: (ctx) => {
    const endpoint = ctx.env.SPROUT_VIRTUAL_CLOUD_ENDPOINT;
    const pageSize = Number(ctx.env.SPROUT_VIRTUAL_CLOUD_PAGE_SIZE ?? "") || undefined;
    return new VirtualDriver({
      metrics: ctx.metrics,
      ...(endpoint ? { endpoint } : {}),
      ...(pageSize ? { pageSize } : {}),
    });
  },
};
export default plugin;
