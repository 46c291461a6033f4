import type { DriverPlugin } from "sprout/driver";
import { VirtualDriver } from "./driver.ts";

/** The virtual cloud plugin: serves MachineClasses with provider "virtual". */
const plugin: DriverPlugin = {
  name: "virtual",
  create: (ctx) => {
    const endpoint = ctx.env.SPROUT_VIRTUAL_CLOUD_ENDPOINT;
    return new VirtualDriver(endpoint ? { endpoint } : {});
  },
};
export default plugin;
