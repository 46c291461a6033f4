import { Type } from "@sinclair/typebox";
import { describe, expect, it } from "vitest";
import { toStructural } from "./crd.ts";
import { StringEnum } from "./schema.ts";

describe("toStructural", () => {
  it("turns records into additionalProperties and literal unions into enums", () => {
    const schema = Type.Object({
      labels: Type.Optional(Type.Record(Type.String(), Type.String())),
      mode: Type.Union([Type.Literal("a"), Type.Literal("b")]),
      kind: StringEnum(["x", "y"]),
      count: Type.Integer({ format: "int32", minimum: 0 }),
    });
    expect(toStructural(schema)).toEqual({
      type: "object",
      required: ["mode", "kind", "count"],
      properties: {
        labels: { type: "object", additionalProperties: { type: "string" } },
        mode: { type: "string", enum: ["a", "b"] },
        kind: { type: "string", enum: ["x", "y"] },
        count: { type: "integer", format: "int32", minimum: 0 },
      },
    });
  });

  it("keeps x-kubernetes extensions and int-or-string alternatives", () => {
    const schema = Type.Unsafe({
      anyOf: [{ type: "integer" }, { type: "string" }],
      "x-kubernetes-int-or-string": true,
      "x-kubernetes-validations": [{ rule: "true" }],
      $id: "dropped",
    });
    expect(toStructural(schema)).toEqual({
      anyOf: [{ type: "integer" }, { type: "string" }],
      "x-kubernetes-int-or-string": true,
      "x-kubernetes-validations": [{ rule: "true" }],
    });
  });
});
