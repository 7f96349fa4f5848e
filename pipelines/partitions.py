"""Quarter and year partitions: keys are the labels users see (`2025-Q1`, `2025`).

Dynamic partitions: the inputs sensor and `kpi run` add the quarters found in the data, and the
quarterly schedule adds the quarter it closes. Quarter labels are computed in one place,
kpi/quarters.py.
"""

import dagster as dg

QUARTERS = dg.DynamicPartitionsDefinition(name="quarter")


#: Year partitions of the yearly deep dive (`2025`), added by its schedule when a year's Q4 is closed.
YEARS = dg.DynamicPartitionsDefinition(name="year")


def ensure_partitions(instance: dg.DagsterInstance, partitions: dg.DynamicPartitionsDefinition,
                      labels: list[str]) -> list[str]:
    """Add the partitions that don't exist yet; return the ones added."""
    existing = set(instance.get_dynamic_partitions(partitions.name))
    missing = [label for label in labels if label not in existing]
    if missing:
        instance.add_dynamic_partitions(partitions.name, missing)
    return missing


def ensure_quarters(instance: dg.DagsterInstance, labels: list[str]) -> list[str]:
    """Add the quarter partitions that don't exist yet; return the ones added."""
    return ensure_partitions(instance, QUARTERS, labels)


def ensure_years(instance: dg.DagsterInstance, labels: list[str]) -> list[str]:
    """Add the year partitions that don't exist yet; return the ones added."""
    return ensure_partitions(instance, YEARS, labels)
