from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from registry.kernel.values import MAX_INDEX, TEMPLATE_ITEMS_FROM


class StringRule(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    type: Literal["string"]
    min_length: int = Field(default=0, alias="minLength", ge=0)
    max_length: int = Field(default=1024, alias="maxLength", ge=1, le=65535)
    pattern: str | None = Field(default=None, max_length=500)
    enum: list[str] | None = None
    check: Literal["vin"] | None = None  # VIN check digit (GB 16735)


class NumberRule(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    type: Literal["number"]
    minimum: float | None = None
    maximum: float | None = None
    integer: bool = False
    unit: str | None = Field(default=None, max_length=32)


class DateRule(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    type: Literal["date", "datetime"]


class ReferenceRule(BaseModel):
    """The value is an identifier (of this node or another): the traceability links between records."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    type: Literal["reference"]
    multiple: bool = False  # a comma-separated list of identifiers


Rule = StringRule | NumberRule | DateRule | ReferenceRule


class TemplateItemIn(BaseModel):
    model_config = ConfigDict(populate_by_name=True, str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=100, description="display name, usually Chinese")
    id_type: str = Field(alias="idType", pattern=r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
    # absent: an update names an existing item by idType, else the item gets the lowest free index from 2000
    id_index: int | None = Field(default=None, alias="idIndex", ge=TEMPLATE_ITEMS_FROM, le=MAX_INDEX)
    required: bool = False
    state: Literal[0, 1] = 1
    metadata: Rule = Field(discriminator="type")


class TemplateIn(BaseModel):
    model_config = ConfigDict(populate_by_name=True, str_strip_whitespace=True)

    prefix: str = Field(min_length=1, max_length=128)
    version: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,63}$")
    description: str | None = Field(default=None, max_length=500)
    industry_category: str | None = Field(default=None, alias="industryCategory", max_length=16)
    industry_specific: str | None = Field(default=None, alias="industrySpecific", max_length=16)
    industry_trade: str | None = Field(default=None, alias="industryTrade", max_length=16)
    industry_subclass: str | None = Field(default=None, alias="industrySubclass", max_length=16)
    object_type: Literal[1, 2] | None = Field(
        default=None, alias="type", description="SNMS 元数据对象类型: 1 active identifier carrier, 2 other"
    )
    items: list[TemplateItemIn] = Field(default_factory=list, max_length=500)

    @model_validator(mode="after")
    def _unique_items(self) -> TemplateIn:
        indexes = [i.id_index for i in self.items if i.id_index is not None]
        types = [i.id_type for i in self.items]
        if len(set(indexes)) != len(indexes):
            raise ValueError("item idIndex values must be unique")
        if len(set(types)) != len(types):
            raise ValueError("item idType values must be unique")
        return self


class TemplateRef(BaseModel):
    """A template version named by its prefix and version (``DELETE /snms/api/v5/template``)."""

    model_config = ConfigDict(str_strip_whitespace=True)

    prefix: str = Field(min_length=1, max_length=128)
    version: str = Field(min_length=1, max_length=128)


def template_out(template: Any, items: list[Any]) -> dict[str, Any]:
    return {
        "id": template.id,
        "prefix": template.prefix,
        "version": template.version,
        "description": template.description,
        "industryCategory": template.industry_category,
        "industrySpecific": template.industry_specific,
        "industryTrade": template.industry_trade,
        "industrySubclass": template.industry_subclass,
        "type": template.object_type,
        "items": [
            {
                "name": i.name,
                "idType": i.id_type,
                "idIndex": i.item_index,
                "required": i.required,
                "state": i.state,
                "metadata": i.item_metadata,
            }
            for i in sorted(items, key=lambda i: i.item_index)
        ],
        "createdBy": template.created_by,
        "createdAt": template.created_at.isoformat(),
        "updatedAt": template.updated_at.isoformat(),
    }
