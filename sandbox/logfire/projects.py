"""Organisations, projects, users and read tokens of one sandbox region."""

from __future__ import annotations

import secrets
import threading
import uuid
from dataclasses import dataclass, field

_NAMESPACE = uuid.UUID("6b1c5a52-4f0e-4c55-9d44-2f5b8f4a1c10")


def _stable_id(*parts: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, "/".join(parts)))


@dataclass(frozen=True)
class Organization:
    id: str
    name: str
    subscription_plan: str = "non_stripe"


@dataclass(frozen=True)
class Project:
    id: str  # the `project_id` column of the project's rows
    name: str
    organization: Organization
    seed: int
    records: int

    @property
    def slug(self) -> str:
        """`organization/project`, the form the hosted tools take as `project`."""
        return f"{self.organization.name}/{self.name}"


@dataclass(frozen=True)
class User:
    id: str
    name: str
    email: str
    projects: tuple[Project, ...]


@dataclass(frozen=True)
class ReadToken:
    """A project read token for the HTTP query API (what Logfire calls a read token)."""

    token: str = field(repr=False)
    token_id: str
    project: Project

    def info(self) -> dict[str, str]:
        """The body of `GET /v1/read-token-info`."""
        org = self.project.organization
        return {
            "token_id": self.token_id,
            "organization_id": org.id,
            "organization_subscription_plan": org.subscription_plan,
            "project_id": self.project.id,
            "organization_name": org.name,
            "project_name": self.project.name,
        }


class Directory:
    """The accounts of one region: one organisation, its projects, its user, and issued read tokens."""

    def __init__(self, *, region: str, seed: int, records: int, organization: str = "acme") -> None:
        self.region = region
        self.organization = Organization(id=_stable_id(region, organization), name=organization)
        self.projects: tuple[Project, ...] = (
            self._project("production", seed=seed, records=records),
            self._project("staging", seed=seed + 1000, records=max(1_000, records // 20)),
        )
        self.user = User(
            id=_stable_id(region, organization, "alice"),
            name="Alice Example",
            email=f"alice@{organization}.example",
            projects=self.projects,
        )
        self._read_tokens: dict[str, ReadToken] = {}
        self._lock = threading.Lock()

    def _project(self, name: str, *, seed: int, records: int) -> Project:
        project_id = _stable_id(self.region, self.organization.name, name)
        return Project(id=project_id, name=name, organization=self.organization, seed=seed, records=records)

    @property
    def default_project(self) -> Project:
        return self.projects[0]

    def project(self, name_or_slug: str) -> Project | None:
        """Find a project by `name`, `organization/name` or id."""
        for project in self.projects:
            if name_or_slug in (project.name, project.slug, project.id):
                return project
        return None

    def issue_read_token(self, project: Project | None = None) -> ReadToken:
        project = project or self.default_project
        token = ReadToken(
            token=f"pylf_v1_{self.region}_{secrets.token_urlsafe(32)}",
            token_id=str(uuid.uuid4()),
            project=project,
        )
        with self._lock:
            self._read_tokens[token.token] = token
        return token

    def read_token(self, token: str) -> ReadToken | None:
        with self._lock:
            return self._read_tokens.get(token)

    def revoke_read_token(self, token: str) -> None:
        with self._lock:
            self._read_tokens.pop(token, None)
