"""docs/model.md: the canonical model with, per entity, the national tables and the rules that read it.

``python -m expectations.modeldocs > docs/model.md`` (a test keeps the file in step with the model).
"""

from expectations.doctor import downstream
from expectations.rules import load_catalogue
from model.canonical import load_model, markdown
from reporting.templates import all_packs


def model_docs() -> str:
    model = load_model()
    pack = all_packs()[-1]  # the newest template pack
    tables = downstream(model, pack)
    rules: dict[str, list[str]] = {}
    for r in load_catalogue():
        layer, _, table = r.asset.partition(".")
        if layer == "staging":
            rules.setdefault(table, []).append(r.id)
    used_by = {
        name: tables.get(name, []) + ([f"rules {', '.join(rules[name])}"] if rules.get(name) else [])
        for name in model.entities
    }
    return markdown(model, used_by)


if __name__ == "__main__":  # pragma: no cover - documentation generator
    print(model_docs(), end="")
