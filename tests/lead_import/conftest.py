"""Fixtures for the import tests: the /lead tests' demo schema."""

from tests.lead.conftest import demo_schema

__all__ = ["demo_schema"]
