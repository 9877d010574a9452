"""Traceability on real PostgreSQL: capture of each event type, idempotency, authorisation, cycles, lifecycle
pagination, upstream and downstream trace with depth limits."""

from tests.factories import coil, credit_code, onboard

URL = {"index": 1, "type": "URL", "data": "https://example.com/item"}


async def _register(client, tenant, *suffixes):
    for suffix in suffixes:
        response = await client.put(f"/api/handles/{tenant.prefix}/{suffix}", json=[URL], headers=tenant.handle_admin)
        assert response.status_code == 201, response.text
    return [f"{tenant.prefix}/{s}" for s in suffixes]


def _object(epcs, time="2026-11-20T08:00:00+08:00", step="commissioning", **extra):
    return {"type": "ObjectEvent", "eventTime": time, "action": "ADD", "epcList": epcs, "bizStep": step, **extra}


def _transform(inputs, outputs, time="2026-11-21T08:00:00+08:00", **extra):
    return {
        "type": "TransformationEvent",
        "eventTime": time,
        "inputEPCList": inputs,
        "outputEPCList": outputs,
        "bizStep": "https://ref.gs1.org/cbv/BizStep-commissioning",
        **extra,
    }


def _aggregate(parent, children, time="2026-11-22T08:00:00+08:00", action="ADD"):
    return {
        "type": "AggregationEvent",
        "eventTime": time,
        "action": action,
        "parentID": parent,
        "childEPCs": children,
        "bizStep": "packing",
    }


async def test_capture_each_type_and_identity(client):
    mill = await onboard(client, "mill")
    heat, coil1 = await _register(client, mill, "HEAT-1", "COIL-1")
    created = await client.post("/epcis/events", headers=mill.headers, json=_object([coil1], eventID="urn:uuid:1"))
    assert created.status_code == 201 and created.json()["eventID"] == "urn:uuid:1"
    again = await client.post("/epcis/events", headers=mill.headers, json=_object([coil1], eventID="urn:uuid:1"))
    assert again.status_code == 409 and again.json()["type"] == "epcisException:ResourceAlreadyExistsException"

    hashed = await client.post("/epcis/events", headers=mill.headers, json=_object([coil1], step="inspecting"))
    event_id = hashed.json()["eventID"]
    assert event_id.startswith("ni:///sha-256;") and event_id.endswith("?ver=CBV2.0")
    same = await client.post("/epcis/events", headers=mill.headers, json=_object([coil1], step="inspecting"))
    assert same.status_code == 409  # the same event without an eventID hashes to the same identity
    same_instant = _object([coil1], time="2026-11-20T00:00:00Z", step="inspecting", eventTimeZoneOffset="+08:00")
    assert (await client.post("/epcis/events", headers=mill.headers, json=same_instant)).status_code == 409

    for event in (
        _transform([heat], [coil1]),
        _aggregate(f"{mill.prefix}/PALLET-1", [coil1]),
        {
            "type": "AssociationEvent",
            "eventTime": "2026-11-23T00:00:00Z",
            "action": "ADD",
            "parentID": heat,
            "childEPCs": ["99.7/sensor-1"],
            "bizStep": "installing",
        },
    ):
        if event["type"] == "AggregationEvent":
            await _register(client, mill, "PALLET-1")
        response = await client.post("/epcis/events", headers=mill.headers, json=event)
        assert response.status_code == 201, response.text
    stored = (await client.get("/epcis/events/urn:uuid:1", headers=mill.headers)).json()
    assert stored["recordTime"].endswith("Z") and stored["eventTimeZoneOffset"] == "+08:00"


async def test_bad_events_are_refused_by_name(client):
    mill = await onboard(client, "strict")
    [coil1] = await _register(client, mill, "C1")
    cases = [
        (_object([coil1], time="yesterday"), "event.time_invalid"),
        (_object([coil1], time="2026-11-20T08:00:00"), "event.time_invalid"),
        (_object([coil1], step="recycling"), "event.vocabulary"),
        (_object([coil1], disposition="shiny"), "event.vocabulary"),
        (_object([]), "event.identifiers_missing"),
        (_object([f"{mill.prefix}/never-registered"]), "event.identifier_unknown"),
        (_object(["not an identifier"]), "event.identifier_invalid"),
        (_transform([coil1], [coil1]), "event.cycle"),
        (_aggregate(coil1, [coil1]), "event.cycle"),
        ({"type": "TransactionEvent", "eventTime": "2026-11-20T00:00:00Z"}, "event.type_unsupported"),
        (_object([coil1]) | {"action": "MOVE"}, "event.action_invalid"),
    ]
    for event, name in cases:
        response = await client.post("/epcis/events", headers=mill.headers, json=event)
        assert response.status_code == 400, (name, response.text)
        assert response.json()["error"] == name
    recycled = await client.post(
        "/epcis/events",
        headers=mill.headers,
        json=_object([coil1], step="urn:secnode:bizstep:recycling", disposition="disposed"),
    )
    assert recycled.status_code == 201
    assert (await client.post("/epcis/events", json=_object([coil1]))).status_code == 401


async def test_a_capture_sees_the_links_of_its_own_earlier_events(client):
    """A capture's events are stored together at its end; cycles through earlier events of the same capture, and
    through stored links, are refused all the same, as are duplicates within it."""
    mill = await onboard(client, "looper")
    a, b, c, d = await _register(client, mill, "A", "B", "C", "D")
    assert (await client.post("/epcis/events", headers=mill.headers, json=_transform([a], [b]))).status_code == 201

    def document(*events):
        return {"type": "EPCISDocument", "epcisBody": {"eventList": list(events)}}

    loop = document(_transform([b], [c], eventID="urn:uuid:b-c"), _transform([c, d], [a], eventID="urn:uuid:cd-a"))
    rejected = await client.post("/epcis/capture", headers=mill.headers, json=loop)
    assert rejected.status_code == 400, rejected.text
    assert [(e["index"], e["error"]) for e in rejected.json()["errors"]] == [(1, "event.cycle")]
    proceed = mill.headers | {"GS1-Capture-Error-Behaviour": "proceed"}
    kept = await client.post("/epcis/capture", headers=proceed, json=loop)
    assert kept.json()["eventIDs"] == ["urn:uuid:b-c"] and kept.json()["errors"][0]["error"] == "event.cycle"
    twice = await client.post(
        "/epcis/capture",
        headers=proceed,
        json=document(_object([d], eventID="urn:uuid:d"), _object([d], eventID="urn:uuid:d")),
    )
    assert [(e["index"], e["error"]) for e in twice.json()["errors"]] == [(1, "event.duplicate")]

    upstream = (await client.get(f"/trace/upstream?handle={c}", headers=mill.headers)).json()
    assert {n["id"]: n["level"] for n in upstream["nodes"]} == {c: 0, b: 1, a: 2}


async def test_capture_needs_ownership_or_a_grant(client):
    mill = await onboard(client, "owner")
    stranger = await onboard(client, "stranger", industry="automotive")
    [coil1] = await _register(client, mill, "C1")
    refused = await client.post("/epcis/events", headers=stranger.headers, json=_object([coil1]))
    assert refused.status_code == 403 and refused.json()["error"] == "event.forbidden"
    assert (await client.put(f"/epcis/grants/{stranger.enterprise_id}", headers=mill.headers)).status_code == 200
    allowed = await client.post("/epcis/events", headers=stranger.headers, json=_object([coil1], step="receiving"))
    assert allowed.status_code == 201, allowed.text
    assert (await client.delete(f"/epcis/grants/{stranger.enterprise_id}", headers=mill.headers)).status_code == 200
    again = await client.post("/epcis/events", headers=stranger.headers, json=_object([coil1], step="storing"))
    assert again.status_code == 403


async def test_batch_capture_all_or_nothing_and_proceed(client):
    mill = await onboard(client, "batch")
    [coil1] = await _register(client, mill, "C1")
    events = [
        _object([coil1], step="commissioning"),
        _object([coil1], step="not-a-step"),
        _object([coil1], step="shipping"),
    ]
    document = {"type": "EPCISDocument", "epcisBody": {"eventList": events}}
    rejected = await client.post("/epcis/capture", headers=mill.headers, json=document)
    assert rejected.status_code == 400 and rejected.json()["success"] is False
    assert [e["index"] for e in rejected.json()["errors"]] == [1]
    lifecycle = await client.get(f"/epcis/events?MATCH_anyEPC={coil1}", headers=mill.headers)
    assert lifecycle.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"] == []

    proceeded = await client.post(
        "/epcis/capture", json=document, headers=mill.headers | {"GS1-Capture-Error-Behaviour": "proceed"}
    )
    assert proceeded.status_code == 201
    assert len(proceeded.json()["eventIDs"]) == 2 and proceeded.json()["errors"][0]["index"] == 1
    too_many = {"type": "EPCISDocument", "epcisBody": {"eventList": [_object([coil1])] * 2001}}
    response = await client.post("/epcis/capture", headers=mill.headers, json=too_many)
    assert response.status_code == 413


async def test_lifecycle_is_time_ordered_filtered_and_paged_stably(client):
    mill = await onboard(client, "life")
    [coil1] = await _register(client, mill, "C1")
    steps = ["commissioning", "inspecting", "shipping", "receiving", "storing"]
    for day, step in enumerate(steps, start=1):
        event = _object([coil1], time=f"2026-11-{10 - day:02d}T00:00:00Z", step=step)  # captured out of time order
        assert (await client.post("/epcis/events", headers=mill.headers, json=event)).status_code == 201
    everything = await client.get(f"/epcis/events?MATCH_anyEPC={coil1}", headers=mill.headers)
    listed = everything.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert [e["bizStep"] for e in listed] == list(reversed(steps))
    shipping = await client.get(f"/epcis/events?MATCH_anyEPC={coil1}&EQ_bizStep=shipping", headers=mill.headers)
    assert len(shipping.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]) == 1
    ranged = await client.get(
        f"/epcis/events?MATCH_anyEPC={coil1}&GE_eventTime=2026-11-06T00:00:00Z&LT_eventTime=2026-11-08T00:00:00Z",
        headers=mill.headers,
    )
    assert len(ranged.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]) == 2

    seen, token = [], None
    while True:
        url = f"/epcis/events?MATCH_anyEPC={coil1}&perPage=2" + (f"&nextPageToken={token}" if token else "")
        page = (await client.get(url, headers=mill.headers)).json()
        seen += [e["bizStep"] for e in page["epcisBody"]["queryResults"]["resultsBody"]["eventList"]]
        if len(seen) == 2:  # a capture between pages, dated later than everything: it comes at the end
            late = _object([coil1], time="2026-12-01T00:00:00Z", step="decommissioning")
            assert (await client.post("/epcis/events", headers=mill.headers, json=late)).status_code == 201
        token = page.get("nextPageToken")
        if not token:
            break
    assert seen == list(reversed(steps)) + ["decommissioning"]
    bad = await client.get(f"/epcis/events?MATCH_anyEPC={coil1}&nextPageToken=garbage", headers=mill.headers)
    assert bad.status_code == 400


async def test_trace_through_transformation_and_aggregation_with_grants(client):
    mill = await onboard(client, "steel")
    maker = await onboard(client, "parts", industry="automotive")
    heat, coil1, coil2 = await _register(client, mill, "HEAT-7", "COIL-1", "COIL-2")
    part, crate = await _register(client, maker, "PART-1", "CRATE-1")
    for event, tenant in [
        (_transform([heat], [coil1, coil2]), mill),
        (_transform([coil1], [part]), maker),
        (_aggregate(crate, [part]), maker),
    ]:
        response = await client.post("/epcis/events", headers=tenant.headers, json=event)
        assert response.status_code == 201, response.text

    down = (await client.get(f"/trace/downstream?handle={heat}", headers=mill.headers)).json()
    nodes = {n["id"]: n["status"] for n in down["nodes"]}
    assert nodes == {heat: "found", coil1: "found", coil2: "found", part: "unauthorised"}
    assert {(e["from"], e["to"], e["kind"]) for e in down["edges"]} == {
        (heat, coil1, "transformation"),
        (heat, coil2, "transformation"),
        (coil1, part, "transformation"),
    }

    await client.put(f"/epcis/grants/{mill.enterprise_id}", headers=maker.headers)
    down = (await client.get(f"/trace/downstream?handle={heat}", headers=mill.headers)).json()
    assert {n["id"]: n["status"] for n in down["nodes"]}[crate] == "found"
    up = (await client.get(f"/trace/upstream?handle={crate}", headers=maker.headers)).json()
    assert {n["id"]: n["status"] for n in up["nodes"]} == {crate: "found", part: "found", coil1: "unauthorised"}
    edge = next(e for e in up["edges"] if e["to"] == crate)
    assert edge["kind"] == "aggregation" and len(edge["events"]) == 1

    cycle = await client.post("/epcis/events", headers=maker.headers, json=_aggregate(part, [crate]))
    assert cycle.status_code == 400 and cycle.json()["error"] == "event.cycle"
    unpacked = await client.post(
        "/epcis/events",
        headers=maker.headers,
        json=_aggregate(crate, [part], time="2026-11-25T00:00:00Z", action="DELETE"),
    )
    assert unpacked.status_code == 201  # unpacking is history, not a new edge


async def test_trace_depth_limit_and_unknown_start(client):
    mill = await onboard(client, "chain")
    chain = await _register(client, mill, *[f"S{i}" for i in range(15)])
    events = [_transform([chain[i]], [chain[i + 1]], time=f"2026-11-20T{i:02d}:00:00Z") for i in range(14)]
    capture = await client.post(
        "/epcis/capture", headers=mill.headers, json={"type": "EPCISDocument", "epcisBody": {"eventList": events}}
    )
    assert capture.status_code == 201, capture.text
    graph = (await client.get(f"/trace/downstream?handle={chain[0]}&depth=10", headers=mill.headers)).json()
    assert len(graph["nodes"]) == 11 and graph["truncated"] is True
    full = (await client.get(f"/trace/downstream?handle={chain[0]}&depth=20", headers=mill.headers)).json()
    assert len(full["nodes"]) == 15 and full["truncated"] is False
    unknown = (await client.get(f"/trace/upstream?handle={mill.prefix}/nothing", headers=mill.headers)).json()
    assert unknown["nodes"] == [{"id": f"{mill.prefix}/nothing", "status": "unknown", "level": 0}]
    assert (await client.get(f"/trace/upstream?handle={chain[0]}&depth=99", headers=mill.headers)).status_code == 400


async def test_references_between_records_are_trace_edges(client):
    mill = await onboard(client, "refmill")
    maker = await onboard(client, "refparts", industry="automotive")
    await client.put(f"/epcis/grants/{maker.enterprise_id}", headers=mill.headers)
    coils = [coil(mill.prefix, i) for i in (1, 2)]
    for item in coils:
        assert (await client.post("/identityv2/data", json=item, headers=mill.headers)).json()["status"] == 1

    def part(materials: str) -> dict:
        return {
            "handle": f"{maker.prefix}/PART-9",
            "templateVersion": "auto-part-1.0",
            "value": [
                {"index": 2000, "type": "partNo", "data": "P-9"},
                {"index": 2001, "type": "partName", "data": "门板"},
                {"index": 2002, "type": "batchNo", "data": "B1"},
                {"index": 2003, "type": "supplierCode", "data": "S1"},
                {"index": 2004, "type": "productionDate", "data": "2026-11-24"},
                {"index": 2005, "type": "materialIds", "data": materials},
            ],
        }

    created = await client.post(
        "/identityv2/data", json=part(f"{coils[0]['handle']},{coils[1]['handle']}"), headers=maker.headers
    )
    assert created.json()["status"] == 1, created.text
    up = (await client.get(f"/trace/upstream?handle={maker.prefix}/PART-9", headers=maker.headers)).json()
    assert {(e["from"], e["kind"]) for e in up["edges"]} == {
        (coils[0]["handle"], "reference"),
        (coils[1]["handle"], "reference"),
    }
    await client.put("/identityv2/data", json=part(coils[1]["handle"]), headers=maker.headers)
    down = (await client.get(f"/trace/downstream?handle={coils[0]['handle']}", headers=mill.headers)).json()
    assert down["edges"] == []
    down = (await client.get(f"/trace/downstream?handle={coils[1]['handle']}", headers=mill.headers)).json()
    assert [(e["to"], e["kind"], e["events"]) for e in down["edges"]] == [(f"{maker.prefix}/PART-9", "reference", [])]


async def test_grants_name_an_enterprise_here_or_a_credit_code_anywhere(client):
    mill = await onboard(client, "grantor")
    partner = await onboard(client, "grantee")
    elsewhere = credit_code()
    for grantee in (partner.enterprise_id, elsewhere):
        response = await client.put(f"/epcis/grants/{grantee}", headers=mill.headers)
        assert response.status_code == 200 and response.json() == {"grantee": grantee, "granted": True}
    listed = (await client.get("/epcis/grants", headers=mill.headers)).json()["grants"]
    assert {g["grantee"] for g in listed} == {partner.enterprise_id, elsewhere}
    wrong_check = elsewhere[:-1] + ("0" if elsewhere[-1] != "0" else "1")
    bad = await client.put(f"/epcis/grants/{wrong_check}", headers=mill.headers)
    assert bad.status_code == 400 and bad.json()["error"] == "enterprise.bad_credit_code"
    assert (await client.put("/epcis/grants/someone", headers=mill.headers)).json()["error"] == "event.bad_grantee"
    assert (await client.delete(f"/epcis/grants/{elsewhere}", headers=mill.headers)).status_code == 200
    listed = (await client.get("/epcis/grants", headers=mill.headers)).json()["grants"]
    assert [g["grantee"] for g in listed] == [partner.enterprise_id]
