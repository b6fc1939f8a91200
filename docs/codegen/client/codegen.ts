// GraphQL Code Generator: TypeScript types for Handoff's client schema and this app's operations.
//   handoff export-schema --role client > client.graphql
//   npx graphql-codegen --config codegen.ts && npx tsc --noEmit
// Packages: @graphql-codegen/cli @graphql-codegen/typescript @graphql-codegen/typescript-operations
// graphql typescript (the versions tested are in tests/node/package.json).
import type { CodegenConfig } from "@graphql-codegen/cli";

// Handoff's custom scalars arrive as JSON strings: DateTime "2026-12-20T09:00:00+00:00",
// Date "2026-12-20", Decimal "1234.50" (exact; never parse money into a float).
const scalars = { DateTime: "string", Date: "string", Decimal: "string" };

const config: CodegenConfig = {
  schema: "client.graphql",
  documents: "operations.graphql",
  generates: {
    // Schema types and operation types in two files: typescript-operations 6 declares
    // the enums an operation uses itself, so with both plugins in one file every such
    // enum is declared twice (TS2567). importSchemaTypesFrom makes it import them.
    "generated/schema.ts": {
      plugins: ["typescript"],
      config: { scalars, enumsAsTypes: true },
    },
    "generated/operations.ts": {
      plugins: ["typescript-operations"],
      config: { scalars, importSchemaTypesFrom: "./generated/schema.ts" },
    },
  },
};

export default config;
