"""A deterministic synthetic mid-sized company running an AI-training programme.

``generate_company(out_dir, employees=180, months=21, seed=42)`` writes an inputs folder in
every supported format (HR, trainings, assessments, five usage formats, surveys, costs,
process metrics, use cases), a matching ``config.yaml`` and the injected ``ground_truth.json``.
"""

from __future__ import annotations

from kpi.synthetic.generator import build_config, generate_company

__all__ = ["build_config", "generate_company"]
