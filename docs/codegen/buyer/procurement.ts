// A procurement screen, type-checked against the generated types.
import type {
  DashboardQuery,
  IssueOrderMutationVariables,
  PartiesQuery,
} from "./generated/operations";
import type { AlertKind } from "./generated/schema";

export function supplierIds(data: PartiesQuery): Record<string, string> {
  return Object.fromEntries(data.suppliers.edges.map(({ node }) => [node.name, node.id]));
}

export function alertCount(data: DashboardQuery, kind: AlertKind): number {
  return data.dashboard.openAlerts.find((a) => a.kind === kind)?.count ?? 0;
}

export function newOrder(supplierId: string, needBy: string): IssueOrderMutationVariables {
  return {
    input: {
      supplierId,
      needBy, // "YYYY-MM-DD"
      currency: "EUR",
      lines: [{ partNumber: "BRKT-1001", quantity: 50, unitPrice: "12.50" }],
    },
  };
}
