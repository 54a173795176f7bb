import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { buildSchema, printBackstopSchema } from "../../src/serve/graphql/build-schema.js";
import { chainsSchema } from "../../src/serve/graphql/chains-schema.js";

describe("the checked-in GraphQL SDL", () => {
  it("is the schema the server builds (regenerate with `npm run graphql:schema`)", () => {
    expect(readFileSync("src/serve/graphql/schema.graphql", "utf8")).toBe(printBackstopSchema());
  });

  it("refuses two modules defining the same field", () => {
    expect(() => buildSchema([chainsSchema, chainsSchema])).toThrow(/defined by two schema modules/);
  });
});
