// Writes the internal API's SDL to src/serve/graphql/schema.graphql (test/serve/schema-sdl.test.ts checks it is current).
// Usage: npm run graphql:schema
import { writeFileSync } from "node:fs";
import { printBackstopSchema } from "../src/serve/graphql/build-schema.js";

writeFileSync(new URL("../src/serve/graphql/schema.graphql", import.meta.url), printBackstopSchema());
process.stdout.write("wrote src/serve/graphql/schema.graphql\n");
