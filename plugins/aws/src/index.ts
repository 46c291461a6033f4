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
    const pageSize = Number(ctx.env.SPROUT_AWS_PAGE_SIZE ?? "") || undefined;
    return new AwsDriver({
      metrics: ctx.metrics,
      ...(endpoint ? { endpoint } : {}),
      ...(pageSize ? { pageSize } : {}),
    });
  },
};
export default plugin;
