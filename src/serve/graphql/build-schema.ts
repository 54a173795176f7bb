import { GraphQLObjectType, GraphQLSchema, lexicographicSortSchema, printSchema, type GraphQLFieldConfigMap } from "graphql";
import { alertsSchema } from "./alerts-schema.js";
import { balancesSchema } from "./balances-schema.js";
import { chainsSchema } from "./chains-schema.js";
import { checkpointsSchema } from "./checkpoints-schema.js";
import { movementsSchema } from "./movements-schema.js";
import { reservesSchema } from "./reserves-schema.js";
import { snapshotsSchema } from "./snapshots-schema.js";
import type { GraphqlContext, SchemaModule } from "./types.js";
import { walletsSchema } from "./wallets-schema.js";

/**
 * The schema's modules, one per area. Checkpoints (issue 10) and alerts with `acknowledgeAlert`
 * (issue 11, scope alerts:write) are each one more module here.
 */
export const SCHEMA_MODULES: readonly SchemaModule[] = [chainsSchema, walletsSchema, balancesSchema, reservesSchema, snapshotsSchema, checkpointsSchema, alertsSchema, movementsSchema];

/** Builds the internal API's schema from its modules (a field defined twice is a bug: thrown). */
export function buildSchema(modules: readonly SchemaModule[] = SCHEMA_MODULES): GraphQLSchema {
  const merge = (pick: (m: SchemaModule) => GraphQLFieldConfigMap<unknown, GraphqlContext> | undefined) => {
    const out: GraphQLFieldConfigMap<unknown, GraphqlContext> = {};
    for (const m of modules) {
      for (const [name, f] of Object.entries(pick(m) ?? {})) {
        if (name in out) throw new Error(`GraphQL field ${name} is defined by two schema modules`);
        out[name] = f;
      }
    }
    return out;
  };
  const query = merge((m) => m.query);
  const mutation = merge((m) => m.mutation);
  return new GraphQLSchema({
    query: new GraphQLObjectType({ name: "Query", fields: query }),
    mutation: Object.keys(mutation).length ? new GraphQLObjectType({ name: "Mutation", fields: mutation }) : undefined,
  });
}

/** The schema's SDL, sorted (stable diffs): what src/serve/graphql/schema.graphql holds. */
export function printBackstopSchema(schema: GraphQLSchema = buildSchema()): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
