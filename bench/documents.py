"""The GraphQL documents the benchmark sends: what each audience's screen asks for."""

from __future__ import annotations

DASHBOARD_PAGE = 50
PORTAL_PAGE = 20

# (1) Buyer dashboard: a page of orders with their whole graph.
DASHBOARD = """
query Dashboard($first: Int!) {
  orders(first: $first) {
    edges {
      cursor
      node {
        id number stage clientReference currency total needBy promisedDate
        issuedAt stageEnteredAt version outlook
        supplier { id name }
        client { id name }
        lines {
          lineNo partNumber description quantity unitPrice lineTotal
          dispatchedQuantity receivedQuantity
        }
        shipments { id method carrier trackingReference trackingUrl dispatchedAt }
        events { at stage kind actorRole actorSubject note promisedDate }
        alerts { kind stage since ageHours thresholdHours message }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""

# (2) Client portal: delivery progress of the client's own orders, polled.
PORTAL = """
query Portal($first: Int!) {
  orders(first: $first) {
    edges {
      cursor
      node {
        id number stage clientReference needBy promisedDate issuedAt
        dispatchedAt deliveredAt outlook
        shipments { id method carrier trackingReference trackingUrl dispatchedAt }
        lines { lineNo partNumber description quantity dispatchedQuantity receivedQuantity }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""

# (3) Supplier cycle, one order: acknowledge, start production, dispatch.
_PAYLOAD = "order { id stage version } userErrors { code message field }"

ACKNOWLEDGE = f"""
mutation Acknowledge($id: ID!, $date: Date!, $key: String) {{
  acknowledgeOrder(input: {{orderId: $id, promisedDate: $date, idempotencyKey: $key}}) {{
    {_PAYLOAD}
  }}
}}
"""

START = f"""
mutation Start($id: ID!, $key: String) {{
  startProduction(input: {{orderId: $id, idempotencyKey: $key}}) {{ {_PAYLOAD} }}
}}
"""

DISPATCH = f"""
mutation Dispatch($id: ID!, $key: String) {{
  dispatchOrder(input: {{
    orderId: $id, method: COURIER, carrier: "DHL", trackingReference: "JD0001",
    idempotencyKey: $key
  }}) {{ {_PAYLOAD} }}
}}
"""

ISSUE = """
mutation Issue($input: IssueOrderInput!) {
  issueOrder(input: $input) { order { id } userErrors { code message } }
}
"""
