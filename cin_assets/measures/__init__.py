"""Pure polars measures: child-level staging tables to each data set's unprotected yearly frame."""

from cin_assets.measures.build import Requirements, build, build_all, empty, requirements, schema

__all__ = ["Requirements", "build", "build_all", "empty", "requirements", "schema"]
