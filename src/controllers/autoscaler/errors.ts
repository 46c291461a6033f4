import { status } from "@grpc/grpc-js";

/** gRPC status codes the provider answers with. */
export type AutoscalerCode =
  "InvalidArgument" | "NotFound" | "FailedPrecondition" | "Unimplemented" | "Aborted";

const CODES: Readonly<Record<AutoscalerCode, status>> = {
  InvalidArgument: status.INVALID_ARGUMENT,
  NotFound: status.NOT_FOUND,
  FailedPrecondition: status.FAILED_PRECONDITION,
  Unimplemented: status.UNIMPLEMENTED,
  Aborted: status.ABORTED,
};

/** A refused request: its gRPC status and a message that says why. Nothing was changed. */
export class AutoscalerError extends Error {
  readonly code: status;
  constructor(code: AutoscalerCode, message: string) {
    super(message);
    this.name = "AutoscalerError";
    this.code = CODES[code];
  }
}
