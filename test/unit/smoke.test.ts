import { describe, it } from "vitest";
import { ok } from "../../src/domain/result";

describe("toolchain", () => {
  it("runs inside workerd", ({ expect }) => {
    expect(ok(1)).toEqual({ ok: true, value: 1 });
  });
});
