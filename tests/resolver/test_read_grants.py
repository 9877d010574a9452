"""Read grants: restricted values and template items readable only by named enterprises or identities, honoured
by resolution, the business detail, the trace and the lifecycle query."""

from __future__ import annotations

from tests.factories import onboard

PUBLIC = {"index": 1, "type": "URL", "data": "https://example.com/coil"}
PRICE = {"index": 2007, "type": "price", "data": "5120 CNY/t", "permissions": "1100"}
CHEMISTRY = {"index": 2008, "type": "chemistry", "data": "C 0.17 Mn 1.4", "permissions": "1100"}


def _transform(inputs, outputs, time="2026-11-21T08:00:00+08:00"):
    return {
        "type": "TransformationEvent",
        "eventTime": time,
        "inputEPCList": inputs,
        "outputEPCList": outputs,
        "bizStep": "commissioning",
    }


async def _indexes(client, handle, headers):
    answer = await client.get(f"/api/handles/{handle}", headers=headers)
    assert answer.status_code == 200, answer.text
    return [v["index"] for v in answer.json()["values"]]


async def test_restricted_values_are_read_only_by_granted_readers_everywhere(client):
    mill = await onboard(client, "grantmill")
    buyer = await onboard(client, "grantbuyer", industry="automotive")
    rival = await onboard(client, "grantrival")
    coil, heat = f"{mill.prefix}/COIL-9", f"{mill.prefix}/HEAT-9"
    for handle in (coil, heat):
        response = await client.put(
            f"/api/handles/{handle}", json=[PUBLIC, PRICE, CHEMISTRY], headers=mill.handle_admin
        )
        assert response.status_code == 201, response.text
    assert (
        await client.post("/epcis/events", headers=mill.headers, json=_transform([heat], [coil]))
    ).status_code == 201

    # before any grant: the buyer sees the public value only, and no trace or lifecycle of the coil
    assert await _indexes(client, coil, buyer.handle_admin) == [1]
    assert await _indexes(client, coil, {}) == [1]
    lifecycle = await client.get("/epcis/events", params={"MATCH_anyEPC": coil}, headers=buyer.headers)
    assert lifecycle.status_code == 403

    # one item for the buyer's enterprise (by credit code, as another node's enterprise would be named)
    response = await client.put(
        "/identityv2/data/readers",
        params={"handle": coil},
        headers=mill.headers,
        json={"index": 2007, "readers": [f"code:{buyer.credit_code}"]},
    )
    assert response.status_code == 200 and response.json()["data"]["readers"] == [f"code:{buyer.credit_code}"]
    assert await _indexes(client, coil, buyer.handle_admin) == [1, 2007]
    detail = (await client.get("/identityv2/data/detail", params={"handle": coil}, headers=buyer.headers)).json()
    assert [v["index"] for v in detail["data"]["value"]] == [1, 2007]
    assert await _indexes(client, coil, rival.handle_admin) == [1]
    assert await _indexes(client, coil, {}) == [1]  # anonymous answers (the cached fast path) never change
    # an item grant opens neither the identifier's traceability nor its other items
    assert (await client.get("/epcis/events", params={"MATCH_anyEPC": coil}, headers=buyer.headers)).status_code == 403

    # the whole identifier for the buyer: every restricted item, its lifecycle and its trace node with values
    response = await client.put(
        "/identityv2/data/readers",
        params={"handle": coil},
        headers=mill.headers,
        json={"readers": [f"enterprise:{buyer.enterprise_id}"]},
    )
    assert response.status_code == 200, response.text
    assert await _indexes(client, coil, buyer.handle_admin) == [1, 2007, 2008]
    lifecycle = await client.get("/epcis/events", params={"MATCH_anyEPC": coil}, headers=buyer.headers)
    assert lifecycle.status_code == 200
    assert len(lifecycle.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]) == 1
    up = (await client.get("/trace/upstream", params={"handle": coil, "values": "true"}, headers=buyer.headers)).json()
    nodes = {n["id"]: n for n in up["nodes"]}
    assert nodes[coil]["status"] == "found" and nodes[heat]["status"] == "unauthorised"
    assert [v["index"] for v in nodes[coil]["values"]] == [1, 2007, 2008]
    assert "values" not in nodes[heat]
    # the owner's trace carries everything; the rival still sees nothing restricted
    owner_up = (
        await client.get("/trace/upstream", params={"handle": coil, "values": "true"}, headers=mill.headers)
    ).json()
    assert {n["id"]: [v["index"] for v in n["values"]] for n in owner_up["nodes"]} == {
        coil: [1, 2007, 2008],
        heat: [1, 2007, 2008],
    }
    assert (await client.get("/epcis/events", params={"MATCH_anyEPC": coil}, headers=rival.headers)).status_code == 403

    # withdrawing the grants closes everything again
    for index in (0, 2007):
        assert (
            await client.put(
                "/identityv2/data/readers",
                params={"handle": coil},
                headers=mill.headers,
                json={"index": index, "readers": []},
            )
        ).status_code == 200
    assert await _indexes(client, coil, buyer.handle_admin) == [1]
    assert (await client.get("/epcis/events", params={"MATCH_anyEPC": coil}, headers=buyer.headers)).status_code == 403


async def test_only_the_identifiers_administrators_choose_its_readers(client):
    mill = await onboard(client, "readeradmin")
    intruder = await onboard(client, "readerintruder")
    coil = f"{mill.prefix}/COIL-1"
    assert (
        await client.put(f"/api/handles/{coil}", json=[PUBLIC, PRICE], headers=mill.handle_admin)
    ).status_code == 201
    grab = {"readers": [f"enterprise:{intruder.enterprise_id}"]}
    refused = await client.put("/identityv2/data/readers", params={"handle": coil}, headers=intruder.headers, json=grab)
    assert refused.status_code == 403 and refused.json()["error"] == "readers.forbidden"
    assert (
        await client.get("/identityv2/data/readers", params={"handle": coil}, headers=intruder.headers)
    ).status_code == 403
    bad = await client.put(
        "/identityv2/data/readers", params={"handle": coil}, headers=mill.headers, json={"readers": ["everyone"]}
    )
    assert bad.status_code == 400 and bad.json()["error"] == "readers.bad_grantee"
    listed = (await client.get("/identityv2/data/readers", params={"handle": coil}, headers=mill.headers)).json()
    assert listed["data"]["readers"] == []
    assert await _indexes(client, coil, intruder.handle_admin) == [1]
