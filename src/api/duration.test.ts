import { describe, expect, it } from "vitest";
import { formatDuration, parseDuration } from "./duration.ts";

describe("Go durations", () => {
  it.each([
    ["20m", 1_200_000],
    ["20m0s", 1_200_000],
    ["1h30m", 5_400_000],
    ["90s", 90_000],
    ["1.5h", 5_400_000],
    ["300ms", 300],
    ["0", 0],
    ["-5s", -5000],
  ])("parses %s", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(["", "5", "5 minutes", "1d", "m", "1h 2m"])("rejects %j", (text) => {
    expect(() => parseDuration(text)).toThrow("invalid duration");
  });

  it.each([
    [1_200_000, "20m0s"],
    [5_403_000, "1h30m3s"],
    [1500, "1.5s"],
    [0, "0s"],
  ])("formats %d as %s", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
