/** The public driver module for plugins: the contract and its errors. */
export type * from "./driver.ts";
export { MachineError, machineError, TRANSIENT_CODES } from "./errors.ts";
export { ERROR_CODES, type ErrorCode } from "../api/constants.ts";
