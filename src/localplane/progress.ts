/** A sink for human-readable progress lines of long steps (builds, downloads, start-up). */
export type Progress = (line: string) => void;

/** Writes progress lines to stderr, prefixed so they stand out from test output. */
export const stderrProgress: Progress = (line) => {
  process.stderr.write(`[sprout] ${line}\n`);
};

export const silentProgress: Progress = () => {};

/** Formats a duration in milliseconds as 1m05s / 12.3s. */
export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
}
