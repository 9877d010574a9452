"""Errors of templates and of values checked against them."""

from __future__ import annotations

from foundation.errors import AlreadyExists, Conflict, DomainError, Forbidden, InvalidValue, Kind, NotFound


class DisabledItem(InvalidValue):
    name = "template.disabled_item"

    def __init__(self, label: str, prefix: str, version: str, *, item: str) -> None:
        super().__init__(f"{label} is disabled in template {prefix} {version}", item=item)
        self.label = label
        self.prefix = prefix
        self.version = version


class ItemImmutable(Conflict):
    name = "template.item_immutable"

    def __init__(self, id_index: int, id_type: str) -> None:
        super().__init__(
            f"item {id_index} '{id_type}': idType and metadata are immutable; add a new item or publish "
            "a new template version"
        )
        self.id_index = id_index
        self.id_type = id_type


class ItemTypeMismatch(InvalidValue):
    name = "template.type_mismatch"

    def __init__(self, label: str, index: int, id_type: str, *, item: str) -> None:
        super().__init__(f"{label}: the template names index {index} '{id_type}'", item=item)
        self.label = label
        self.index = index
        self.id_type = id_type


class ItemTypeTaken(Conflict):
    name = "template.item_type_taken"

    def __init__(self, id_type: str, index: int) -> None:
        super().__init__(f"idType '{id_type}' is already used by index {index}")
        self.id_type = id_type
        self.index = index


class ItemValueInvalid(InvalidValue):
    """Raised with the message of the check that failed."""

    name = "template.value_invalid"


class RequiredItemMissing(InvalidValue):
    name = "template.required_missing"

    def __init__(self, id_type: str, item_name: str, index: int) -> None:
        super().__init__(f"required item '{id_type}' ({item_name}, index {index}) is missing", item=id_type)
        self.id_type = id_type
        self.item_name = item_name
        self.index = index


class TemplateBindingInvalid(InvalidValue):
    """Raised with the message of the check that failed."""

    name = "template.binding_invalid"


class TemplateBindingReserved(InvalidValue):
    name = "template.binding_reserved"

    def __init__(self, index: int) -> None:
        super().__init__(f"index {index} is reserved: name the template with templateVersion")
        self.index = index


class TemplateExists(AlreadyExists):
    name = "template.exists"

    def __init__(self, prefix: str, version: str) -> None:
        super().__init__(f"template {prefix} version {version} exists; versions are immutable")
        self.prefix = prefix
        self.version = version


class TemplateInUse(Conflict):
    name = "template.in_use"

    def __init__(self, prefix: str, version: str) -> None:
        super().__init__(
            f"template {prefix} version {version} is bound by identifiers; only unused versions are deleted"
        )
        self.prefix = prefix
        self.version = version


class TemplateForbidden(Forbidden):
    name = "template.forbidden"

    def __init__(self, prefix: str) -> None:
        super().__init__(f"only the node administrator or the administrator of {prefix} manages its templates")
        self.prefix = prefix


class UnknownItem(InvalidValue):
    name = "template.unknown_item"

    def __init__(self, label: str, prefix: str, version: str, *, item: str) -> None:
        super().__init__(f"{label} is not in template {prefix} {version}", item=item)
        self.label = label
        self.prefix = prefix
        self.version = version


class TemplateNotFound(NotFound):
    name = "template.not_found"

    def __init__(self, prefix: str, version: str) -> None:
        super().__init__(f"template {prefix} version {version} does not exist")
        self.prefix = prefix
        self.version = version


class BoundTemplateNotFound(TemplateNotFound):
    """A value binds a template that does not exist: the value is invalid (Handle 202), the name stays."""

    kind = Kind.INVALID_VALUE

    def __init__(self, message: str) -> None:
        DomainError.__init__(self, message)
