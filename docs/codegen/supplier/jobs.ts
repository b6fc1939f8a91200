// A supplier's job board, type-checked against the generated types.
import type {
  AcknowledgeOrderMutationVariables,
  DispatchOrderMutation,
  DispatchOrderMutationVariables,
  SupplierJobsQuery,
} from "./generated/operations";

export function openValue(data: SupplierJobsQuery): string[] {
  // Money is a Decimal string: show it as sent, never through a float.
  return data.orders.edges.map(({ node }) => `${node.number}: ${node.total} ${node.currency}`);
}

export function acknowledge(orderId: string, version: number, promisedDate: string): AcknowledgeOrderMutationVariables {
  return { input: { orderId, promisedDate, expectedVersion: version } };
}

export function shipByCourier(orderId: string, trackingReference: string): DispatchOrderMutationVariables {
  return { input: { orderId, method: "COURIER", carrier: "DHL", trackingReference, idempotencyKey: `ship-${orderId}` } };
}

export function problems(result: DispatchOrderMutation): string[] {
  return result.dispatchOrder.userErrors.map((e) => `${e.code}: ${e.message} (${(e.field ?? []).join(".")})`);
}
