import { afterAll, beforeAll, describe } from "vitest";
import { MOTO_VERSION } from "../env/moto.ts";
import { enforceIam, startOwnMoto } from "../env/aws.ts";
import { awsBehaviour } from "./aws-behaviour.ts";
import { type AwsConformance, awsConformance } from "./aws-target.ts";
import { driverConformance } from "./suite.ts";

let moto: Awaited<ReturnType<typeof startOwnMoto>> | undefined;
let aws: AwsConformance | undefined;

beforeAll(async () => {
  moto = await startOwnMoto();
  const endpoint = moto.endpoint;
  aws = await awsConformance({
    label: `moto ${MOTO_VERSION}`,
    endpoint,
    enforceIam: (on) => enforceIam(endpoint, on),
  });
});

afterAll(async () => {
  await aws?.close();
  await moto?.stop();
});

const ready = (): AwsConformance => {
  if (!aws) throw new Error("moto did not start");
  return aws;
};

describe(`aws plugin on moto ${MOTO_VERSION}`, () => {
  driverConformance(() => ready().target);
  awsBehaviour(ready);
});
