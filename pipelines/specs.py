"""Asset specs from the catalogue (kpi/catalog.py): the key, description, kinds and column schema
of a warehouse table's asset, so the Dagster UI shows every column with its type and meaning."""

from __future__ import annotations

import dagster as dg

from kpi.catalog import TableSpec, load


def asset_key(table: str) -> dg.AssetKey:
    """``staging.employees`` -> AssetKey(["staging", "employees"])."""
    return dg.AssetKey(table.split("."))


def column_schema(spec: TableSpec) -> dg.TableSchema:
    def describe(column) -> str:
        extra = [f"scale: {column.scale}" if column.scale else "", "figure" if column.role == "figure" else ""]
        extra = [e for e in extra if e]
        return column.description + (f" ({', '.join(extra)})" if extra else "")

    return dg.TableSchema(columns=[dg.TableColumn(c.name, c.base_type, description=describe(c)) for c in spec.columns])


def table_asset_spec(table: str, group: str, deps=(), partitions_def=None) -> dg.AssetSpec:
    """The asset spec of a declared table: description, grain and columns from its declaration."""
    spec = load()[table]
    metadata = {"dagster/column_schema": column_schema(spec), "dagster/table_name": spec.name}
    if spec.grain:
        metadata["grain"] = ", ".join(spec.grain)
    return dg.AssetSpec(asset_key(table), description=spec.description, group_name=group, kinds={"duckdb"},
                        deps=[asset_key(d) if isinstance(d, str) else d for d in deps],
                        partitions_def=partitions_def, metadata=metadata)
