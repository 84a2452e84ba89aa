"""Typed Pulumi components: each takes a frozen `@dataclass` of args and parents every child to itself."""

COMPONENT_PREFIX = "tunedeck:infra"
