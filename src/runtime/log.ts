import { type DestinationStream, type Logger, pino } from "pino";

export type { Logger } from "pino";

/**
 * Paths never written to logs: Secret contents, user data, tokens and credentials, wherever an object
 * carrying them is logged.
 */
export const REDACTED_PATHS = [
  "data",
  "stringData",
  "*.data",
  "*.stringData",
  "userData",
  "*.userData",
  "token",
  "*.token",
  "password",
  "*.password",
  "secretAccessKey",
  "*.secretAccessKey",
  "headers.authorization",
  "*.headers.authorization",
];

/** Structured JSON logs (pino) with secrets redacted. */
export function newLogger(
  opts: { level?: string; name?: string } = {},
  destination?: DestinationStream,
): Logger {
  return pino(
    {
      level: opts.level ?? process.env.SPROUT_LOG_LEVEL ?? "info",
      name: opts.name ?? "sprout",
      redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
      base: null,
    },
    destination,
  );
}

/** A logger that writes nothing (tests, libraries used without one). */
export const silentLogger: Logger = pino({ level: "silent" });
