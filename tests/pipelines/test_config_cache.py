"""ProgrammeResource.load_config parses the config once per content (every step of a run asks for
it): a changed file is read again, and no step can change the config another step gets."""

from __future__ import annotations

import shutil

from kpi.paths import DEMO_DIR
from pipelines.resources import ProgrammeResource


def test_parsed_once_per_content_and_never_shared(tmp_path, monkeypatch):
    path = tmp_path / "config.yaml"
    shutil.copy(DEMO_DIR / "config.yaml", path)
    parsed = []
    import kpi.config

    original = kpi.config.load_config
    monkeypatch.setattr(kpi.config, "load_config", lambda p: parsed.append(p) or original(p))
    programme = ProgrammeResource(inputs_dir=str(tmp_path), config_path=str(path))
    first, second = programme.load_config(), programme.load_config()
    assert len(parsed) == 1 and first == second and first is not second
    first.company.name = "changed by one step"
    assert programme.load_config().company.name != "changed by one step"
    path.write_text(path.read_text().replace(f"name: {second.company.name}", "name: Renamed BV", 1))
    assert programme.load_config().company.name == "Renamed BV" and len(parsed) == 2
