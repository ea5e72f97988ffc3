"""Reading the project's YAML files (mappings, template packs, indicators, the rule catalogue): libyaml's
safe loader where PyYAML was built with it (10x the pure-Python one), the same documents either way."""

from pathlib import Path

import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
YAMLError = yaml.YAMLError


def read_yaml(path: str | Path):
    with open(path, encoding="utf-8") as f:
        return yaml.load(f, Loader=_LOADER)


def read_yaml_as(path: str | Path, error: type[Exception], what: str):
    """``read_yaml``, with a missing file or broken YAML raised as ``error`` naming the file and ``what`` it is."""
    try:
        return read_yaml(path)
    except FileNotFoundError:
        raise error(f"{path}: {what} not found") from None
    except YAMLError as e:
        raise error(f"{path}: not valid YAML: {e}") from None
