import type { DriverPlugin } from "sprout/driver";
import { AwsDriver } from "./driver.ts";

/**
 * The AWS plugin: serves MachineClasses with provider "AWS". The EC2 endpoint is the SDK's for the
 * providerSpec's region, unless AWS_ENDPOINT_URL_EC2 (or AWS_ENDPOINT_URL) names another, as for
 * LocalStack or moto.
 */
const plugin: DriverPlugin = {
  name: "aws",
  create: (ctx) => {
    const endpoint = ctx.env.AWS_ENDPOINT_URL_EC2 ?? ctx.env.AWS_ENDPOINT_URL;
    return new AwsDriver(endpoint ? { endpoint } : {});
  },
};
export default plugin;
