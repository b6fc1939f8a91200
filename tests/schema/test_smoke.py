from conftest import GraphQL

VIEWER = "{ viewer { role org subject } }"


async def test_buyer_sees_its_viewer(buyer: GraphQL) -> None:
    body = await buyer(VIEWER)
    assert body == {
        "data": {"viewer": {"role": "buyer", "org": "org-a", "subject": "buyer-user@org-a"}}
    }
