// Types of Ponder's virtual modules (ponder:registry, ponder:schema, ponder:api) for `tsc --noEmit`: the
// declarations Ponder's codegen writes into a (git-ignored) ponder-env.d.ts at the root of the app it runs (that name is git-ignored, hence this one).
/// <reference types="ponder/virtual" />

declare module "ponder:internal" {
  const config: typeof import("../../ponder.config.ts");
  const schema: typeof import("../../ponder.schema.ts");
}

declare module "ponder:schema" {
  export * from "../../ponder.schema.ts";
}
