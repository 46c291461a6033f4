import { ERROR_CODES, type ErrorCode } from "./codes.ts";

const BRAND = Symbol.for("sprout.MachineError");

/**
 * An error a driver returns: a code from MCM's machinecodes set and a message. Its string form is
 * MCM's wire format, "machine codes error: code = [<Name>] message = [<msg>]", which
 * MachineError.from() also parses back, so errors from MCM-style drivers keep their code.
 */
export class MachineError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "MachineError";
    this.code = code;
    Object.defineProperty(this, BRAND, { value: true });
  }

  /** Works across copies of this module (a plugin may load its own). */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === "object" && value !== null && BRAND in value;
  }

  override toString(): string {
    return `machine codes error: code = [${this.code}] message = [${this.message}]`;
  }

  /**
   * The MachineError carried by any thrown value: itself, one parsed from MCM's string form, or
   * Unknown (with the original message) for anything else.
   */
  static from(err: unknown): MachineError {
    if (err instanceof MachineError) return err;
    const text = err instanceof Error ? err.message : String(err);
    const match = /code = \[([A-Za-z]+)\] message = \[([\s\S]*)\]$/.exec(text);
    const code = match?.[1] as ErrorCode | undefined;
    if (match && code && (ERROR_CODES as readonly string[]).includes(code)) {
      return new MachineError(code, match[2] ?? "", { cause: err });
    }
    return new MachineError("Unknown", text, { cause: err });
  }
}

export const machineError = (code: ErrorCode, message: string): MachineError =>
  new MachineError(code, message);
