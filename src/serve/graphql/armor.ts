// The GraphQL armour: limits checked on the document (and, for page sizes and cost, on the
// coerced variables) before any resolver runs. Each limit's budget is in LIMITS; every refusal is a
// QueryRejectedError (400, "Query validation error.") whose detail stays in the log.
import {
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  getNamedType,
  type GraphQLNamedType,
  type GraphQLSchema,
  isObjectType,
  isInterfaceType,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  valueFromAST,
  visit,
} from "graphql";
import { QueryRejectedError } from "../http-errors.js";

/** The armour's budgets (issue 12 item 4). */
export const LIMITS = {
  /** Field nesting, fragments expanded: a dashboard needs 5 (balances → nodes → block → …). */
  maxDepth: 8,
  /** Aliases in the whole document: 30 lets a dashboard fetch 30 wallets at once, no more. */
  maxAliases: 30,
  /** Directives in the whole document. */
  maxDirectives: 50,
  /** Lexer tokens: parse stops at the limit, so a huge document costs at most this many tokens of work. */
  maxTokens: 2000,
  /** Request body bytes (answered 413 above). */
  maxBodyBytes: 100 * 1024,
  /** JSON nesting of the body (variables): deep nesting is refused before graphql-js recurses into it. */
  maxJsonDepth: 16,
  /** Page size: the largest `first` accepted, literal or variable (refused, never capped silently). */
  maxPageSize: 1000,
  /** Cost: each field 1, a paginated field's subtree times its `first`. 5000 allows a full 1000-row page of 4 fields. */
  maxCost: 5000,
  /** Serialised response bytes: the cost limit bounds it far below this; the cap catches a bug. */
  maxResponseBytes: 8 * 1024 * 1024,
} as const;

/**
 * Refuses a body whose JSON nesting exceeds `maxDepth` (counted over `[`/`{` outside strings, in
 * one pass, before JSON.parse): a 100 KB body of `[[[[…` would otherwise reach graphql-js's recursive
 * variable coercion.
 * @throws QueryRejectedError
 */
export function checkJsonDepth(text: string, maxDepth = LIMITS.maxJsonDepth): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 || c === 123) {
      if (++depth > maxDepth) throw new QueryRejectedError({ reason: "json_depth", detail: `JSON body nested deeper than ${maxDepth}` });
    } else if (c === 93 || c === 125) depth--;
  }
}

/**
 * The static shape of a document: counted once per document (then cached with it). `fields` is the
 * number of field selections with every fragment spread expanded: what execution (and graphql-jit's
 * compiler) would walk, so a document that reuses fragments to multiply itself is refused before
 * it is validated or compiled.
 */
export type DocumentShape = { aliases: number; directives: number; depth: number; fields: number };

/**
 * Counts a document's aliases and directives (every definition) and the depth of the chosen
 * operation with fragments expanded (memoised per fragment, so fragment reuse cannot make the count
 * exponential; cycles, which validation refuses anyway, count as too deep).
 */
export function computeDocumentShape(document: DocumentNode, operation: OperationDefinitionNode): DocumentShape {
  let aliases = 0;
  let directives = 0;
  visit(document, {
    Field(node) {
      if (node.alias) aliases++;
    },
    Directive() {
      directives++;
    },
  });
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const memo = new Map<string, number>();
  const visiting = new Set<string>();
  const fieldMemo = new Map<string, number>();
  const fieldsOf = (set: SelectionSetNode | undefined): number => {
    if (!set) return 0;
    let n = 0;
    for (const s of set.selections) {
      if (s.kind === Kind.FIELD) n += 1 + fieldsOf(s.selectionSet);
      else if (s.kind === Kind.INLINE_FRAGMENT) n += fieldsOf(s.selectionSet);
      else {
        const name = s.name.value;
        let c = fieldMemo.get(name);
        if (c === undefined) {
          if (visiting.has(name)) return Number.POSITIVE_INFINITY;
          visiting.add(name);
          c = fieldsOf(fragments.get(name)?.selectionSet);
          visiting.delete(name);
          fieldMemo.set(name, c);
        }
        n += c;
      }
      if (n > LIMITS.maxCost) return n;
    }
    return n;
  };
  const depthOf = (set: SelectionSetNode | undefined): number => {
    if (!set) return 0;
    let max = 0;
    for (const s of set.selections) {
      if (s.kind === Kind.FIELD) max = Math.max(max, s.selectionSet ? 1 + depthOf(s.selectionSet) : 1);
      else if (s.kind === Kind.INLINE_FRAGMENT) max = Math.max(max, depthOf(s.selectionSet));
      else {
        const name = s.name.value;
        let d = memo.get(name);
        if (d === undefined) {
          if (visiting.has(name)) return Number.POSITIVE_INFINITY;
          visiting.add(name);
          d = depthOf(fragments.get(name)?.selectionSet);
          visiting.delete(name);
          memo.set(name, d);
        }
        max = Math.max(max, d);
      }
    }
    return max;
  };
  return { aliases, directives, depth: depthOf(operation.selectionSet), fields: fieldsOf(operation.selectionSet) };
}

/**
 * Refuses a document over the static limits (aliases, directives, depth).
 * @throws QueryRejectedError
 */
export function checkDocumentShape(shape: DocumentShape): void {
  if (shape.depth > LIMITS.maxDepth) throw new QueryRejectedError({ reason: "depth", detail: `depth ${shape.depth} > ${LIMITS.maxDepth}` });
  if (shape.aliases > LIMITS.maxAliases) throw new QueryRejectedError({ reason: "aliases", detail: `${shape.aliases} aliases > ${LIMITS.maxAliases}` });
  if (shape.directives > LIMITS.maxDirectives) throw new QueryRejectedError({ reason: "directives", detail: `${shape.directives} directives > ${LIMITS.maxDirectives}` });
  if (shape.fields > LIMITS.maxCost) throw new QueryRejectedError({ reason: "cost", detail: `${shape.fields} field selections with fragments expanded > ${LIMITS.maxCost}` });
}

/**
 * The cost of running an operation with these (coerced) variables: every field costs 1, and a field
 * with a `first` argument costs 1 + first × the cost of its subtree. Every `first` (a literal, a
 * variable or the argument's default) must be within 1..maxPageSize. Fragments are costed once each
 * (memoised: their cost does not depend on where they are spread). Stops counting past the limit.
 * @throws QueryRejectedError (page_size, cost)
 */
export function checkOperationCost(p: {
  schema: GraphQLSchema;
  document: DocumentNode;
  operation: OperationDefinitionNode;
  variables: Record<string, unknown>;
}): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of p.document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const memo = new Map<string, number>();
  const root = p.operation.operation === "mutation" ? p.schema.getMutationType() : p.schema.getQueryType();
  const pageSize = (field: FieldNode, parent: GraphQLNamedType): number => {
    if (!isObjectType(parent) && !isInterfaceType(parent)) return 1;
    const def = parent.getFields()[field.name.value];
    const argDef = def?.args.find((a) => a.name === "first");
    if (!argDef) return 1;
    const node = field.arguments?.find((a) => a.name.value === "first");
    const value = node ? valueFromAST(node.value, argDef.type, p.variables) : argDef.defaultValue;
    const first = typeof value === "number" ? value : 0;
    if (!Number.isInteger(first) || first < 1 || first > LIMITS.maxPageSize) {
      throw new QueryRejectedError({ reason: "page_size", detail: `${field.name.value}(first: ${String(value)}) outside 1..${LIMITS.maxPageSize}` });
    }
    return first;
  };
  const costOf = (set: SelectionSetNode | undefined, parent: GraphQLNamedType | undefined | null): number => {
    if (!set || !parent) return 0;
    let total = 0;
    for (const s of set.selections) {
      if (s.kind === Kind.FIELD) {
        if (s.name.value.startsWith("__")) {
          total += 1;
          continue;
        }
        const fieldDef = isObjectType(parent) || isInterfaceType(parent) ? parent.getFields()[s.name.value] : undefined;
        const child = fieldDef ? getNamedType(fieldDef.type) : undefined;
        total += 1 + pageSize(s, parent) * costOf(s.selectionSet, child);
      } else if (s.kind === Kind.INLINE_FRAGMENT) {
        total += costOf(s.selectionSet, s.typeCondition ? p.schema.getType(s.typeCondition.name.value) : parent);
      } else {
        const name = s.name.value;
        let c = memo.get(name);
        if (c === undefined) {
          const f = fragments.get(name);
          c = f ? costOf(f.selectionSet, p.schema.getType(f.typeCondition.name.value)) : 0;
          memo.set(name, c);
        }
        total += c;
      }
      if (total > LIMITS.maxCost) throw new QueryRejectedError({ reason: "cost", detail: `cost over ${LIMITS.maxCost}` });
    }
    return total;
  };
  return costOf(p.operation.selectionSet, root);
}
