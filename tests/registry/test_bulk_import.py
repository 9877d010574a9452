"""Bulk import and export (`secnode import` / `secnode export`): 10,000-row files with 1% bad rows, an import killed
half-way and resumed, a batch committed without its checkpoint, export and re-import into a fresh prefix.

The files' size is ``SECNODE_TEST_IMPORT_ROWS`` (default 10,000); run with 100000 for the full-size check:
``SECNODE_TEST_IMPORT_ROWS=100000 .venv/bin/python -m pytest tests/registry/test_bulk_import.py -k killed``."""

from __future__ import annotations

import asyncio
import csv
import os
import shutil
import signal
import sys
from pathlib import Path

import orjson
import pytest
from sqlalchemy import func, select

from foundation.errors import DomainError
from registry.bulk.checkpoint import Checkpoint
from registry.bulk.importer import Importer, ImportRequest
from registry.journal.models import JournalEntry
from registry.kernel.models import HandleRecord
from tests.conftest import REDIS_URL
from tests.factories import admin_headers, coil, onboard

ROOT = Path(__file__).resolve().parents[2]
ROWS = int(os.environ.get("SECNODE_TEST_IMPORT_ROWS", "10000"))
# A spreadsheet's columns, as an enterprise keeps them, and its mapping to the steel-coil template.
HEADER = ["编号", "钢卷号", "炉号", "牌号", "产品标准", "厚度", "宽度", "净重", "生产日期", "生产线", "备注"]
MAPPING = {
    "编号": "suffix",
    "钢卷号": "coilNo",
    "炉号": "heatNo",
    "牌号": "grade",
    "产品标准": "productStandard",
    "厚度": "thickness",
    "宽度": "width",
    "净重": "netWeight",
    "生产日期": "productionDate",
    "生产线": "productionLine",
    "备注": None,
}
# Every 100th row is bad, in one of these ways: (column, value, error expected in the report).
BAD = [
    ("厚度", "-1", "template.value_invalid"),
    ("牌号", "Q235-B", "template.value_invalid"),
    ("炉号", "", "template.required_missing"),
    ("编号", "BAD {i}", "handle.suffix_characters"),
    ("编号", "", "bulk.identifier_empty"),
]


def sheet(count: int = ROWS) -> tuple[list[dict[str, str]], dict[int, str]]:
    """Rows keyed by header, and the expected error of each bad row by its position."""
    rows, bad = [], {}
    for i in range(count):
        row = dict(
            zip(
                HEADER,
                [
                    f"COIL-{i:06d}",
                    f"C{i:08d}",
                    f"H{i % 997:06d}",
                    "Q235B",
                    "GB/T 700-2006",
                    "2.5",
                    "1250",
                    "21.4",
                    "2026-11-20",
                    f'{i % 3 + 1}号线, "热轧"',
                    "正常",
                ],
                strict=True,
            )
        )
        if i % 100 == 37:
            column, value, error = BAD[(i // 100) % len(BAD)]
            row[column] = value.format(i=i)
            bad[i] = error
        rows.append(row)
    return rows, bad


def write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8-sig") as handle:  # as a spreadsheet saves it (with a BOM)
        writer = csv.DictWriter(handle, fieldnames=HEADER)
        writer.writeheader()
        writer.writerows(rows)


def write_mapping(path: Path) -> Path:
    path.write_bytes(orjson.dumps(MAPPING))
    return path


def report(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


async def cli(*args: str, cwd: Path, database_url: str, **settings: str) -> asyncio.subprocess.Process:
    """``secnode`` in a subprocess against the test database and Redis (the test's own node is a worker there);
    ``settings`` are more ``SECNODE_*`` variables (``limit_registrations_per_prefix_daily="25"``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SECNODE_")}
    env |= {"SECNODE_DATABASE_URL": database_url, "SECNODE_REDIS_URL": REDIS_URL}
    env |= {f"SECNODE_{name.upper()}": value for name, value in settings.items()}
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "node.cli",
        *args,
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def finished(process: asyncio.subprocess.Process) -> tuple[int, str]:
    out, err = await asyncio.wait_for(process.communicate(), 120)
    return process.returncode, (out + err).decode()


async def live_count(db, prefix: str) -> int:
    async with db.read_session() as session:
        query = (
            select(func.count())
            .select_from(HandleRecord)
            .where(
                HandleRecord.prefix_key == prefix.lower(),
                HandleRecord.deleted.is_(False),
                HandleRecord.handle_key != f"{prefix.lower()}/admin",
            )
        )
        return (await session.execute(query)).scalar_one()


async def created_in_journal(db, prefix: str) -> int:
    async with db.read_session() as session:
        query = (
            select(func.count())
            .select_from(JournalEntry)
            .where(
                JournalEntry.kind == "handle.created",
                JournalEntry.subject_key.like(f"{prefix.lower()}/%"),
                JournalEntry.subject_key != f"{prefix.lower()}/admin",
            )
        )
        return (await session.execute(query)).scalar_one()


async def values_by_suffix(db, prefix: str) -> dict[str, dict[str, str]]:
    async with db.read_session() as session:
        rows = (
            await session.execute(
                select(HandleRecord.handle, HandleRecord.record_values).where(
                    HandleRecord.prefix_key == prefix.lower(), HandleRecord.deleted.is_(False)
                )
            )
        ).all()
    return {
        handle.partition("/")[2]: {v["type"]: v["data"]["value"] for v in values if v["index"] >= 2000}
        for handle, values in rows
        if not handle.endswith("/admin")
    }


def assert_report(path: Path, bad: dict[int, str], first_row: int, suffix_of) -> None:
    """The report lists every bad row once, in order, with its identifier and reason, and nothing else."""
    lines = report(path)
    assert [int(line["row"]) for line in lines] == [i + first_row for i in sorted(bad)]
    assert [line["error"] for line in lines] == [bad[i] for i in sorted(bad)]
    for line, i in zip(lines, sorted(bad), strict=True):
        assert line["reason"]
        if bad[i] != "bulk.identifier_empty":
            assert line["identifier"].endswith(suffix_of(i)), line


async def test_csv_import_killed_half_way_resumes_without_duplicates(
    client, fresh_node, settings, database_url, tmp_path
):
    tenant = await onboard(client, "coilmill")
    rows, bad = sheet()
    source, mapping = tmp_path / "coils.csv", write_mapping(tmp_path / "mapping.json")
    write_csv(source, rows)
    checkpoint = tmp_path / "coils.csv.checkpoint"
    command = [
        "import",
        str(source),
        "--prefix",
        tenant.prefix,
        "--template",
        "steel-coil-1.0",
        "--mapping",
        str(mapping),
    ]

    # killed without warning once a quarter of the file is committed (small batches: it is caught half-way)
    process = await cli(*command, "--batch", "250", cwd=tmp_path, database_url=database_url)
    while not (checkpoint.exists() and Checkpoint.load(checkpoint).row >= ROWS // 4):
        assert process.returncode is None, (await finished(process))[1]
        await asyncio.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    await process.wait()
    stopped_at = Checkpoint.load(checkpoint)
    assert stopped_at.row < ROWS, "the import finished before it could be interrupted"
    assert 0 < await live_count(fresh_node, tenant.prefix) < ROWS - len(bad)

    code, output = await finished(await cli(*command, cwd=tmp_path, database_url=database_url))
    assert code == 3, output  # done, with rows in the error report
    assert f"resuming coils.csv after row {stopped_at.row:,}" in output
    assert f"{ROWS:,} rows:" in output and f"{len(bad):,} failed" in output
    assert not checkpoint.exists()
    assert await live_count(fresh_node, tenant.prefix) == ROWS - len(bad)
    assert await created_in_journal(fresh_node, tenant.prefix) == ROWS - len(bad)  # each registered once
    assert_report(tmp_path / "coils.errors.csv", bad, 2, lambda i: rows[i]["编号"])

    # a whole rerun recognises every imported row and reports only the bad ones again
    again = await Importer(
        fresh_node,
        settings,
        ImportRequest(path=source, prefix=tenant.prefix, template="steel-coil-1.0", mapping=mapping),
    ).run()
    assert (again.counts.created, again.counts.present, again.counts.failed) == (0, ROWS - len(bad), len(bad))
    assert await created_in_journal(fresh_node, tenant.prefix) == ROWS - len(bad)
    assert_report(tmp_path / "coils.errors.csv", bad, 2, lambda i: rows[i]["编号"])

    detail = (await client.get(f"/identityv2/data/detail?handle={tenant.prefix}/COIL-000001")).json()["data"]
    values = {v["type"]: v["data"]["value"] for v in detail["value"]}
    assert values["productionLine"] == '2号线, "热轧"' and "备注" not in values
    assert detail["templateVersion"] == "steel-coil-1.0"


class Interrupted(Exception):
    pass


async def test_jsonl_import_resumes_after_a_batch_committed_without_its_checkpoint(
    client, fresh_node, settings, tmp_path
):
    tenant = await onboard(client, "jsonmill")
    rows, bad = sheet()
    source = tmp_path / "coils.jsonl"
    with source.open("wb") as handle:
        for i, row in enumerate(rows):
            item = {MAPPING[k]: v for k, v in row.items() if MAPPING[k]}  # columns named like the template
            item["thickness"] = 2.5 if i not in bad else item["thickness"]  # a JSON number is taken as text
            handle.write(orjson.dumps(item) + b"\n")
        handle.write(b"{not json\n")
        handle.write(b'["an", "array"]\n')
        handle.write(orjson.dumps({"suffix": "EXTRA-1", "colour": "blue"}) + b"\n")
    bad |= {ROWS: "bulk.unreadable_row", ROWS + 1: "bulk.unreadable_row", ROWS + 2: "bulk.column_unmapped"}
    request = ImportRequest(path=source, prefix=tenant.prefix, template="steel-coil-1.0", batch=1000)
    saved = tmp_path / "saved.checkpoint"

    def crash_later(progress):
        if progress.row == 3000:
            shutil.copy(request.checkpoint_path, saved)
        if progress.row == 6000:
            raise Interrupted()

    with pytest.raises(Interrupted):
        await Importer(fresh_node, settings, request, on_progress=crash_later).run()
    # the process died after committing three more batches but before their checkpoints reached the disk
    shutil.copy(saved, request.checkpoint_path)

    done = await Importer(fresh_node, settings, request).run()
    assert done.resumed_from_row == 3000 and done.done
    assert done.counts.failed == len(bad)
    assert done.counts.created + done.counts.present == ROWS - len(bad) + 3
    assert done.counts.present == 3000 - sum(1 for i in bad if 3000 <= i < 6000)  # the batches sent twice
    assert done.counts.rows == ROWS + 3
    assert await live_count(fresh_node, tenant.prefix) == ROWS - len(bad) + 3
    assert await created_in_journal(fresh_node, tenant.prefix) == ROWS - len(bad) + 3
    assert_report(request.errors_path, bad, 1, lambda i: rows[i]["编号"] if i < ROWS else "")
    assert (await values_by_suffix(fresh_node, tenant.prefix))["COIL-000002"]["thickness"] == "2.5"


async def test_export_then_import_into_a_fresh_prefix_round_trips(client, fresh_node, settings, database_url, tmp_path):
    origin = await onboard(client, "exporter")
    rows, bad = sheet(2000)
    source = tmp_path / "coils.csv"
    write_csv(source, rows)
    await Importer(
        fresh_node,
        settings,
        ImportRequest(
            path=source, prefix=origin.prefix, template="steel-coil-1.0", mapping=write_mapping(tmp_path / "m.json")
        ),
    ).run()
    extra = coil(origin.prefix, 999_999, length="12000")
    extra["value"].append(
        {"index": 2019, "type": "certificateNo", "data": {"format": "string", "value": "质证-2026-0001"}}
    )
    assert (await client.post("/identityv2/data", json=extra, headers=origin.headers)).json()["status"] == 1
    plain = await client.put(
        f"/api/handles/{origin.prefix}/DOC-1",
        headers=origin.handle_admin,
        json={"values": [{"index": 1, "type": "URL", "data": "https://example.com/1"}]},
    )
    assert plain.status_code == 201, plain.text
    original = await values_by_suffix(fresh_node, origin.prefix)
    assert len(original) == 2000 - len(bad) + 2

    for fmt in ("csv", "jsonl"):
        output = tmp_path / f"export.{fmt}"
        code, log = await finished(
            await cli(
                "export",
                "--prefix",
                origin.prefix,
                "--format",
                fmt,
                "--output",
                str(output),
                cwd=tmp_path,
                database_url=database_url,
            )
        )
        assert code == 3, log  # written, but one record cannot be a row of the template: it is named
        assert f"exported {len(original) - 1:,} identifiers" in log and f"{origin.prefix}/DOC-1" in log
        assert not output.with_name(output.name + ".partial").exists()

        target = await onboard(client, f"importer{fmt}")
        done = await Importer(
            fresh_node, settings, ImportRequest(path=output, prefix=target.prefix, template="steel-coil-1.0")
        ).run()
        assert (done.counts.created, done.counts.failed) == (len(original) - 1, 0)
        copied = await values_by_suffix(fresh_node, target.prefix)
        assert copied == {k: v for k, v in original.items() if k != "DOC-1"}
    assert copied["COIL-2026-999999"]["certificateNo"] == "质证-2026-0001"


async def test_bad_input_is_refused_before_any_row(client, fresh_node, settings, database_url, tmp_path):
    tenant = await onboard(client, "careful")
    other = await onboard(client, "stranger")
    rows, _ = sheet(50)
    source = tmp_path / "coils.csv"
    write_csv(source, rows)
    mapping = write_mapping(tmp_path / "mapping.json")

    def request(**changes) -> ImportRequest:
        return ImportRequest(
            **{"path": source, "prefix": tenant.prefix, "template": "steel-coil-1.0", "mapping": mapping, **changes}
        )

    wrong_target = tmp_path / "wrong.json"
    wrong_target.write_bytes(orjson.dumps({**MAPPING, "厚度": "thick"}))
    no_heat = tmp_path / "noheat.json"
    no_heat.write_bytes(orjson.dumps({**MAPPING, "炉号": None}))
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    cases = [
        (request(mapping=None), "bulk.column_unmapped", "'编号'"),
        (request(mapping=wrong_target), "bulk.mapping_invalid", "thick"),
        (request(mapping=no_heat), "bulk.required_unmapped", "heatNo"),
        (request(mapping=broken), "bulk.mapping_invalid", "not valid JSON"),
        (request(template="no-such-template"), "template.not_found", "no-such-template"),
        (request(acting_as="stranger"), "bulk.user_not_of_enterprise", "stranger"),
        (request(prefix="88.118.999999"), "bulk.prefix_unknown", "88.118.999999"),
        (request(batch=5000), "bulk.batch_size", "2000"),
        (request(path=tmp_path / "coils.xlsx"), "bulk.no_input", "coils.xlsx"),
        (request(encoding="latin-9x"), "bulk.encoding", "latin-9x"),
    ]
    for wrong, name, mentioned in cases:
        with pytest.raises(DomainError) as caught:
            await Importer(fresh_node, settings, wrong).prepare()
        assert caught.value.name == name and mentioned in caught.value.message, (name, caught.value.message)
    assert await live_count(fresh_node, tenant.prefix) == 0
    assert other.prefix  # the stranger's enterprise exists and was not written to either
    assert await live_count(fresh_node, other.prefix) == 0

    # the command says so and exits 1
    code, output = await finished(
        await cli(
            "import",
            str(source),
            "--prefix",
            tenant.prefix,
            "--template",
            "steel-coil-1.0",
            cwd=tmp_path,
            database_url=database_url,
        )
    )
    assert code == 1 and "bulk.column_unmapped" in output and "--mapping" in output, output

    # a file edited in its already imported part is not resumed blindly
    def stop(progress):
        raise Interrupted()

    with pytest.raises(Interrupted):
        await Importer(fresh_node, settings, request(batch=10), on_progress=stop).run()
    write_csv(source, [{**rows[0], "厚度": "3.0"}] + rows[1:])
    with pytest.raises(DomainError) as caught:
        await Importer(fresh_node, settings, request(batch=10)).prepare()
    assert caught.value.name == "bulk.input_changed"
    with pytest.raises(DomainError) as caught:
        await Importer(fresh_node, settings, request(encoding="gbk")).prepare()
    assert caught.value.name == "bulk.checkpoint_mismatch"
    # from the first row again: the changed row is reported, not overwritten; the others are recognised
    done = await Importer(fresh_node, settings, request(restart=True)).run()
    assert (done.counts.created, done.counts.present, done.counts.failed) == (39, 9, 2)
    assert [line["error"] for line in report(done.errors_path)] == ["handle.exists", "template.value_invalid"]


async def test_unreadable_rows_are_reported_and_the_others_imported(client, fresh_node, settings, tmp_path):
    tenant = await onboard(client, "messy")
    good = "C{n},H1,Q235B,GB/T 700-2006,2.5,1250,21.4,2026-11-20"
    lines = [
        "suffix,coilNo,heatNo,grade,productStandard,thickness,width,netWeight,productionDate",
        "A1," + good.format(n=1),
        "",  # an empty line is skipped
        "A2," + good.format(n=2) + ",extra",  # one field too many
        '"A3",' + good.format(n=3).replace("Q235B", '"Q2\n35B"'),  # a quoted cell across lines
        "A4,C4,H4",  # a short row: the missing cells are empty
        f"{tenant.prefix}/A5," + good.format(n=5),  # a full handle where a suffix is expected
        ",,,,,,,,",  # a row of empty cells
        "A6," + good.format(n=6),
    ]
    source = tmp_path / "messy.csv"
    data = "\n".join(lines).encode() + b"\nA7,C7,H\xff\xfe,Q235B,GB/T 700-2006,2.5,1250,21.4,2026-11-20\n"
    source.write_bytes(data)
    done = await Importer(
        fresh_node, settings, ImportRequest(path=source, prefix=tenant.prefix, template="steel-coil-1.0")
    ).run()
    assert (done.counts.created, done.counts.failed) == (2, 5)
    errors = {int(line["row"]): (line["error"], line["reason"]) for line in report(done.errors_path)}
    assert errors[4] == ("bulk.unreadable_row", "row has 10 fields, the header has 9")
    assert errors[5][0] == "template.value_invalid"  # the grade really holds a line break
    assert errors[6][0] == "template.required_missing"
    assert errors[7][0] == "handle.extra_slash"
    assert errors[10] == ("bulk.unreadable_row", "not valid utf-8: pass --encoding (e.g. gbk)")
    assert set(await values_by_suffix(fresh_node, tenant.prefix)) == {"A1", "A6"}

    # a file saved by a Chinese-locale spreadsheet, read with --encoding gbk
    rows, _ = sheet(5)
    legacy = tmp_path / "legacy.csv"
    with legacy.open("w", newline="", encoding="gbk") as handle:
        writer = csv.DictWriter(handle, fieldnames=HEADER)
        writer.writeheader()
        writer.writerows(rows)
    done = await Importer(
        fresh_node,
        settings,
        ImportRequest(
            path=legacy,
            prefix=tenant.prefix,
            encoding="gbk",
            template="steel-coil-1.0",
            mapping=write_mapping(tmp_path / "m.json"),
        ),
    ).run()
    assert (done.counts.created, done.counts.failed) == (5, 0)
    assert (await values_by_suffix(fresh_node, tenant.prefix))["COIL-000004"]["productionLine"] == '2号线, "热轧"'


async def test_a_prefix_disabled_during_an_import_stops_it_resumably(client, fresh_node, settings, tmp_path):
    tenant = await onboard(client, "paused")
    admin = await admin_headers(client)
    rows, bad = sheet(100)
    source = tmp_path / "coils.csv"
    write_csv(source, rows)
    request = ImportRequest(
        path=source,
        prefix=tenant.prefix,
        template="steel-coil-1.0",
        batch=20,
        mapping=write_mapping(tmp_path / "mapping.json"),
    )

    def stop(progress):
        raise Interrupted()

    with pytest.raises(Interrupted):
        await Importer(fresh_node, settings, request, on_progress=stop).run()
    assert (await client.post(f"/snms/api/v5/prefixes/{tenant.prefix}/disable", headers=admin)).status_code == 200
    # every row would now be refused for the prefix's state: the import stops instead of reporting them all
    with pytest.raises(DomainError) as caught:
        await Importer(fresh_node, settings, request).run()
    assert caught.value.name == "prefix.not_enabled"
    assert Checkpoint.load(request.checkpoint_path).row == 21 and report(request.errors_path) == []

    assert (await client.post(f"/snms/api/v5/prefixes/{tenant.prefix}/enable", headers=admin)).status_code == 200
    done = await Importer(fresh_node, settings, request).run()
    assert (done.counts.created, done.counts.failed) == (100 - len(bad), len(bad))
    assert await live_count(fresh_node, tenant.prefix) == 100 - len(bad)


# ---- secnode export-events -----------------------------------------------------------------------------------


async def test_an_enterprise_that_leaves_takes_its_events_along(client, database_url, tmp_path):
    mill = await onboard(client, "leaver")
    other = await onboard(client, "stayer")
    url = {"index": 1, "type": "URL", "data": "https://example.com"}
    for tenant, suffix in ((mill, "HEAT-1"), (mill, "COIL-1"), (other, "PART-1")):
        response = await client.put(f"/api/handles/{tenant.prefix}/{suffix}", json=[url], headers=tenant.handle_admin)
        assert response.status_code == 201, response.text
    events = [
        (
            {
                "type": "TransformationEvent",
                "eventTime": "2026-11-21T08:00:00Z",
                "inputEPCList": [f"{mill.prefix}/HEAT-1"],
                "outputEPCList": [f"{mill.prefix}/COIL-1"],
                "bizStep": "commissioning",
            },
            mill,
        ),
        (
            {
                "type": "ObjectEvent",
                "eventTime": "2026-11-20T08:00:00Z",
                "action": "ADD",
                "epcList": [f"{mill.prefix}/HEAT-1"],
                "bizStep": "commissioning",
            },
            mill,
        ),
        (
            {
                "type": "ObjectEvent",
                "eventTime": "2026-11-22T08:00:00Z",
                "action": "ADD",
                "epcList": [f"{other.prefix}/PART-1"],
                "bizStep": "commissioning",
            },
            other,
        ),
    ]
    for event, tenant in events:
        assert (await client.post("/epcis/events", json=event, headers=tenant.headers)).status_code == 201

    target = tmp_path / "events.json"
    code, output = await finished(
        await cli(
            "export-events", "--prefix", mill.prefix, "--output", str(target), cwd=tmp_path, database_url=database_url
        )
    )
    assert code == 0, output
    document = orjson.loads(target.read_bytes())
    assert document["type"] == "EPCISDocument" and document["schemaVersion"] == "2.0"
    exported = document["epcisBody"]["eventList"]
    assert [e["type"] for e in exported] == ["ObjectEvent", "TransformationEvent"]  # its own, in time order
    assert all(e["eventID"] for e in exported)
    code, output = await finished(
        await cli(
            "export-events",
            "--prefix",
            "88.118.999999",
            "--output",
            str(tmp_path / "none.json"),
            cwd=tmp_path,
            database_url=database_url,
        )
    )
    assert code == 1 and "prefix.not_found" in output and not (tmp_path / "none.json").exists()


@pytest.mark.parametrize("redis", [True, False], ids=["through Redis", "without Redis"])
async def test_import_counts_against_the_prefix_daily_quota(client, fresh_node, database_url, tmp_path, redis):
    """The quota is the node's: a second run the same day starts from what the first registered (through Redis, or
    without it from what the database holds as registered today)."""
    tenant = await onboard(client, "quota")
    rows = [row for n, row in enumerate(sheet(40)[0]) if n % 100 != 37]  # good rows only
    source = tmp_path / "coils.csv"
    write_csv(source, rows)
    mapping = write_mapping(tmp_path / "mapping.json")
    command = (
        "import",
        "--prefix",
        tenant.prefix,
        "--template",
        "steel-coil-1.0",
        "--mapping",
        str(mapping),
        "--batch",
        "10",
        str(source),
    )
    without = {} if redis else {"redis_url": ""}

    code, output = await finished(
        await cli(
            *command, cwd=tmp_path, database_url=database_url, limit_registrations_per_prefix_daily="25", **without
        )
    )
    assert code == 1 and "limit.registrations" in output, output
    assert await live_count(fresh_node, tenant.prefix) == 20  # two whole batches; the third rolled back
    code, output = await finished(
        await cli(
            *command, cwd=tmp_path, database_url=database_url, limit_registrations_per_prefix_daily="25", **without
        )
    )
    assert code == 1 and "limit.registrations" in output, output  # the day's 20 are counted: 10 more exceed 25
    assert await live_count(fresh_node, tenant.prefix) == 20
    code, output = await finished(
        await cli(
            *command, cwd=tmp_path, database_url=database_url, limit_registrations_per_prefix_daily="100", **without
        )
    )
    assert code == 0, output  # a larger quota: the import resumes where it stopped
    assert await live_count(fresh_node, tenant.prefix) == len(rows)
