"""Quarter partitions: keys are the labels users see (`2025-Q1`).

Dynamic partitions: the inputs sensor and `kpi run` add the quarters found in the data, and the
quarterly schedule adds the quarter it closes. Quarter labels are computed in one place,
kpi/quarters.py.
"""

import dagster as dg

QUARTERS = dg.DynamicPartitionsDefinition(name="quarter")


def ensure_quarters(instance: dg.DagsterInstance, labels: list[str]) -> list[str]:
    """Add the quarter partitions that don't exist yet; return the ones added."""
    existing = set(instance.get_dynamic_partitions(QUARTERS.name))
    missing = [label for label in labels if label not in existing]
    if missing:
        instance.add_dynamic_partitions(QUARTERS.name, missing)
    return missing
