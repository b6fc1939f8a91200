// A client portal's view model, type-checked against the generated types.
import type {
  PortalOrderQuery,
  PortalOrdersQuery,
  PortalOrdersQueryVariables,
} from "./generated/operations";
import type { OrderStage, Outlook } from "./generated/schema";

export const inTransit: PortalOrdersQueryVariables = { first: 20, stages: ["DISPATCHED"] };

export interface Row {
  id: string;
  number: string;
  stage: OrderStage;
  due: string; // a Date: "YYYY-MM-DD"
  outlook: Outlook;
  tracking: string[];
}

export function rows(data: PortalOrdersQuery): Row[] {
  return data.orders.edges.map(({ node }) => ({
    id: node.id,
    number: node.number,
    stage: node.stage,
    due: node.promisedDate ?? node.needBy,
    outlook: node.outlook,
    // Own-driver shipments have no carrier, reference or link for a client.
    tracking: node.shipments.flatMap((s) => (s.trackingUrl ? [s.trackingUrl] : [])),
  }));
}

export function progress(data: PortalOrderQuery): string {
  const order = data.order;
  if (order === null) return "no such order";
  const ordered = order.lines.reduce((sum, line) => sum + line.quantity, 0);
  const received = order.lines.reduce((sum, line) => sum + line.receivedQuantity, 0);
  return `${order.number}: ${received}/${ordered} received, ${order.outlook}`;
}
