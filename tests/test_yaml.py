"""YAML parsing: libyaml's parser where PyYAML has it, the same objects as the pure-Python loader."""

from pathlib import Path

import pytest
import yaml

import eralpha
from eralpha import _yaml
from eralpha.errors import InputError

SHIPPED = sorted(Path(eralpha.__file__).parent.glob("**/*.yaml"))


def test_every_shipped_yaml_file_parses_to_the_same_objects_as_the_pure_python_loader():
    assert len(SHIPPED) > 20
    for path in SHIPPED:
        text = path.read_text(encoding="utf-8")
        assert _yaml.safe_load(text) == yaml.load(text, Loader=yaml.SafeLoader), path.name


def test_a_bad_document_gets_the_pure_python_loaders_error(tmp_path):
    with pytest.raises(yaml.YAMLError) as exc:
        _yaml.safe_load("a:\n\t- 1\n")
    assert "'\\t'" in str(exc.value)  # libyaml's own message does not name the character
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: xenograft\nname: [x\n")
    from eralpha.scenario._load import read_yaml

    with pytest.raises(InputError, match=r"not valid YAML at line 3"):
        read_yaml(bad)
