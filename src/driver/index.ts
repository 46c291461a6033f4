/** The public driver module for plugins: the contract, its errors and codes, and a fake for tests. */
export type * from "./driver.ts";
export { DRIVER_OPERATIONS } from "./driver.ts";
export { MachineError, machineError } from "./errors.ts";
export {
  ERROR_CODES,
  type ErrorCode,
  errorCodeNumber,
  type FlowKind,
  type RetryClass,
  retryClassOf,
  TRANSIENT_CODES,
} from "./codes.ts";
export { noMetrics, silentDriverLogger, systemClock } from "./context.ts";
export { FakeDriver, type FakeVm } from "./fake.ts";
export { KeyedLock, withBackoff } from "./plugin-kit.ts";
