"""Errors of bulk import and export."""

from __future__ import annotations

from collections.abc import Sequence

from foundation.errors import Conflict, Forbidden, InvalidRequest, NotFound


class BadBatchSize(InvalidRequest):
    name = "bulk.batch_size"

    def __init__(self, largest: int) -> None:
        super().__init__(f"--batch must be 1 to {largest} (the business API's limit)")
        self.largest = largest


class BadEncoding(InvalidRequest):
    """Raised with the message of the check that failed."""

    name = "bulk.encoding"


class BadHeader(InvalidRequest):
    """Raised with the message of the check that failed."""

    name = "bulk.bad_header"


class CheckpointInvalid(InvalidRequest):
    name = "bulk.checkpoint_invalid"

    def __init__(self, path: object) -> None:
        super().__init__(
            f"the checkpoint {path} is unreadable; remove it, or pass --restart to import from the "
            "first row (rows already imported are recognised, not doubled)"
        )
        self.path = path


class CheckpointMismatch(InvalidRequest):
    name = "bulk.checkpoint_mismatch"

    def __init__(self, path: object, options: Sequence[str]) -> None:
        super().__init__(
            f"{path} belongs to an import with other options ({', '.join(options)}): rerun with the "
            "same options to resume, or pass --restart"
        )
        self.path = path
        self.options = tuple(options)


class ColumnUnmapped(InvalidRequest):
    """Raised with the message of the check that failed."""

    name = "bulk.column_unmapped"


class EmptyFile(InvalidRequest):
    name = "bulk.empty_file"

    def __init__(self, file_name: str) -> None:
        super().__init__(f"{file_name} is empty: a CSV file starts with a header row")
        self.file_name = file_name


class FormatUnknown(InvalidRequest):
    """Raised with the message of the check that failed."""

    name = "bulk.format_unknown"


class InputChanged(InvalidRequest):
    """Raised with the message of the check that failed."""

    name = "bulk.input_changed"


class MappingInvalid(InvalidRequest):
    """Raised with the message of the check that failed."""

    name = "bulk.mapping_invalid"


class NoIdentifierColumn(InvalidRequest):
    name = "bulk.no_identifier_column"

    def __init__(self, count: int) -> None:
        super().__init__(f"exactly one column must name the identifier (mapped to suffix or handle); found {count}")
        self.count = count


class NoInput(InvalidRequest):
    name = "bulk.no_input"

    def __init__(self, path: object) -> None:
        super().__init__(f"{path} is not a file")
        self.path = path


class PrefixUnknown(NotFound):
    name = "bulk.prefix_unknown"

    def __init__(self, prefix: str) -> None:
        super().__init__(f"prefix {prefix} is not allocated on this node")
        self.prefix = prefix


class ReportChanged(InvalidRequest):
    name = "bulk.report_changed"

    def __init__(self, path: object) -> None:
        super().__init__(
            f"the error report {path} is missing or shorter than the checkpoint expects: pass the same "
            "--errors file, or --restart"
        )
        self.path = path


class RequiredUnmapped(InvalidRequest):
    name = "bulk.required_unmapped"

    def __init__(self, id_type: str, item_name: str) -> None:
        super().__init__(f"required item {id_type} ({item_name}) is mapped from no column: every row would fail")
        self.id_type = id_type
        self.item_name = item_name


class TemplateAmbiguous(InvalidRequest):
    name = "bulk.template_ambiguous"

    def __init__(self, prefix: str, count: int, found: str) -> None:
        super().__init__(
            f"the records of {prefix} are bound to {count} templates ({found}): name one with "
            "--template (a file holds the rows of one template)"
        )
        self.prefix = prefix
        self.count = count
        self.found = found


class UserAmbiguous(Conflict):
    name = "bulk.user_ambiguous"

    def __init__(self, prefix: str, count: int, names: str) -> None:
        super().__init__(f"the enterprise holding {prefix} has {count} active accounts ({names}): name one with --as")
        self.prefix = prefix
        self.count = count
        self.names = names


class UserDisabled(Forbidden):
    name = "bulk.user_disabled"

    def __init__(self, username: str) -> None:
        super().__init__(f"user {username!r} is disabled")
        self.username = username


class UserNotOfEnterprise(Forbidden):
    name = "bulk.user_not_of_enterprise"

    def __init__(self, username: str, prefix: str) -> None:
        super().__init__(f"user {username!r} does not act for the enterprise holding {prefix}")
        self.username = username
        self.prefix = prefix


class UserUnknown(NotFound):
    name = "bulk.user_unknown"

    def __init__(self, username: str) -> None:
        super().__init__(f"there is no user {username!r}")
        self.username = username
