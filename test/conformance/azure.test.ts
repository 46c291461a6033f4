import { afterAll, beforeAll, describe } from "vitest";
import type { ConformanceTarget } from "./suite.ts";
import { driverConformance } from "./suite.ts";
import { azureConformance } from "./azure-target.ts";
import { type AzureWorld, startAzureWorld } from "../env/azure.ts";

let world: AzureWorld | undefined;
let target: ConformanceTarget | undefined;

beforeAll(async () => {
  world = await startAzureWorld();
  target = (await azureConformance(world)).target;
});

afterAll(async () => {
  await world?.arm.stop();
});

describe("azure plugin on the loopback ARM server", () => {
  driverConformance(() => {
    if (!target) throw new Error("the loopback ARM server did not start");
    return target;
  });
});
