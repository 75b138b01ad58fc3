"""better-auth's request and response shapes (camelCase, as its client expects)."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from everything_app.core.timestamps import Instant
from everything_app.core.validation import Input

# Fields a client may never set on its own account.
PROTECTED_FIELDS = ("role", "emailVerified", "email_verified", "id", "passwordHash")


class CamelModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class _RejectsProtected(Input):
    model_config = ConfigDict(extra="allow")

    @model_validator(mode="before")
    @classmethod
    def _no_protected_fields(cls, data: object) -> object:
        if isinstance(data, dict):
            for name in PROTECTED_FIELDS:
                if name in data:
                    raise ValueError(f"{name} is not allowed to be set")
        return data


class SignUpBody(_RejectsProtected):
    # Lengths and format are checked by the service so it can answer with better-auth's codes.
    email: str = Field(max_length=1000)
    password: str = Field(max_length=10_000)
    name: str | None = Field(default=None, max_length=200)
    image: str | None = Field(default=None, max_length=2048)
    callbackURL: str | None = None  # noqa: N815 - better-auth's field name
    rememberMe: bool = True  # noqa: N815


class SignInBody(Input):
    email: str = Field(max_length=1000)
    password: str = Field(max_length=10_000)
    callbackURL: str | None = None  # noqa: N815
    rememberMe: bool = True  # noqa: N815


class ChangePasswordBody(Input):
    currentPassword: str = Field(max_length=10_000)  # noqa: N815
    newPassword: str = Field(max_length=10_000)  # noqa: N815
    revokeOtherSessions: bool = True  # noqa: N815 - always done; accepted for compatibility


class UpdateUserBody(_RejectsProtected):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    image: str | None = Field(default=None, max_length=2048)

    @model_validator(mode="after")
    def _no_email_change(self) -> UpdateUserBody:
        if self.model_extra and "email" in self.model_extra:
            raise ValueError("email can not be changed here")
        return self


class DeleteUserBody(Input):
    password: str = Field(max_length=10_000)


class RevokeSessionBody(Input):
    token: str | None = None
    id: uuid.UUID | None = None


class UserOut(CamelModel):
    id: uuid.UUID
    email: str
    name: str
    image: str | None
    email_verified: bool
    role: str
    created_at: Instant
    updated_at: Instant
    # better-auth's admin plugin fields (auth.admin).
    banned: bool
    ban_reason: str | None
    ban_expires: Instant | None


class SessionOut(CamelModel):
    id: uuid.UUID
    user_id: uuid.UUID
    expires_at: Instant
    created_at: Instant
    updated_at: Instant
    ip_address: str | None
    user_agent: str | None


class CurrentSessionOut(SessionOut):
    token: str | None = None


class SessionWithUser(BaseModel):
    session: CurrentSessionOut
    user: UserOut


class SignUpOut(BaseModel):
    token: str | None  # null when REQUIRE_EMAIL_VERIFICATION holds the sign-in back
    user: UserOut


class SignInOut(BaseModel):
    redirect: bool
    token: str
    url: str | None = None
    user: UserOut


class StatusOut(BaseModel):
    status: bool = True


class SuccessOut(BaseModel):
    success: bool = True
    message: str | None = None
