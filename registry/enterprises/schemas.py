from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from registry.enterprises.credit_code import is_valid
from registry.enterprises.states import INDUSTRIES


class EnterpriseApplication(BaseModel):
    """A real-name onboarding application, with the account the enterprise will log in with."""

    model_config = ConfigDict(populate_by_name=True, str_strip_whitespace=True)

    name: str = Field(min_length=2, max_length=200)
    credit_code: str = Field(alias="creditCode", min_length=18, max_length=18)
    industry: str
    industry_code: str = Field(
        alias="industryCode",
        pattern=r"^[A-T]\d{2,4}$",
        description="GB/T 4754 code, e.g. C3120 (steel rolling), C3670 (auto parts)",
    )
    contact_name: str = Field(alias="contactName", min_length=1, max_length=100)
    contact_phone: str = Field(alias="contactPhone", pattern=r"^\+?[0-9\- ]{5,32}$")
    contact_email: str = Field(alias="contactEmail", pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=200)
    address: str | None = Field(default=None, max_length=300)
    username: str = Field(pattern=r"^[A-Za-z0-9_.\-]{3,64}$")
    password: str = Field(min_length=8, max_length=128)

    @field_validator("credit_code")
    @classmethod
    def _credit_code(cls, value: str) -> str:
        value = value.upper()
        if not is_valid(value):
            raise ValueError("unified social credit code fails its GB 32100-2015 check")
        return value

    @field_validator("industry")
    @classmethod
    def _industry(cls, value: str) -> str:
        if value not in INDUSTRIES:
            raise ValueError(f"industry must be one of {', '.join(INDUSTRIES)}")
        return value


class Audit(BaseModel):
    approve: bool
    reason: str | None = Field(default=None, max_length=500)


class EnterpriseOut(BaseModel):
    model_config = ConfigDict(from_attributes=True, populate_by_name=True, serialize_by_alias=True)

    id: int
    name: str
    credit_code: str = Field(serialization_alias="creditCode")
    industry: str
    industry_code: str = Field(serialization_alias="industryCode")
    contact_name: str = Field(serialization_alias="contactName")
    contact_phone: str = Field(serialization_alias="contactPhone")
    contact_email: str = Field(serialization_alias="contactEmail")
    address: str | None
    state: str
    reason: str | None
    created_at: datetime = Field(serialization_alias="createdAt")
    updated_at: datetime = Field(serialization_alias="updatedAt")


__all__ = ["Audit", "EnterpriseApplication", "EnterpriseOut"]
