"""Rules generated from the canonical model's declarations, as dbt's schema tests are: every entity gets
them without anyone writing them, and the catalogue keeps the rules that need real SQL.

For each entity a college feeds (ids ``G-<entity>-<kind>``, owned by the department of the first mapping
that feeds it):

=========================  ==========  =====================================================================
``G-<e>-required``         error       the fields the model marks required are not empty
``G-<e>-codes``            error       the fields with a national code list hold its codes, and a field a
                                       mapping translates holds one of its translations (a vendor value
                                       nobody translated is not passed on as if it were a category)
``G-<e>-unique``           error       the model's key identifies a row
``G-<e>-<field>-ref``      error       a reference (``references:``) resolves in the target entity, whatever
                                       systems feed the two
``G-<e>-volume``           error       no source table feeding it lost more than STATEDATA_MAX_ROW_DROP (50 %) of
                                       its rows in its latest load, or all of them (a table emptied by mistake
                                       would otherwise publish an empty national table)
``G-<e>-unmarked``         warning     the latest whole read (a reconciliation, STATEDATA_RECONCILE_DAYS) of a
                                       table extracted by its change column found no row changed while that
                                       column did not move (an incremental read misses such a change)
``G-<e>-range``            warning     quantities (amounts, areas, counts: numbers with a unit) are not negative
``G-<e>-source``           warning     for an entity nothing feeds: which national tables it leaves empty
                                       (none for an optional entity, or one no national table reads)
=========================  ==========  =====================================================================

A kind the catalogue already checks on the entity (an ``expect:`` with that kind, a rule that ``covers:`` the
reference) is not generated again. The generated rules are SQL over the canonical relation (one query each,
no Great Expectations suite: cheap enough for every entity of every college), reporting each failing row by
its ``_raw_id`` like every rule.
"""

from dataclasses import replace

from expectations.doctor import downstream
from expectations.rules import Rule, load_catalogue
from expectations.suites import parse
from model.canonical import Entity, Model, load_model
from model.mapping import VIEW_READS, SourceSpec, load_mappings, load_views
from model.settings import Settings
from reporting.templates import all_packs
from warehouse.db import quote

QUANTITY_UNITS = {"元", "万元", "平方米", "亩", "册", "台套", "学时", "学分", "人", "人次", "间", "个", "门", "年"}
NO_SOURCE_OWNER = "质量管理办公室"


def _covered(catalogue: list[Rule]) -> tuple[set[tuple[str, str]], set[tuple[str, str]], set[str]]:
    """(entity, kind) pairs the catalogue's suites check, (entity, field) pairs checked not negative, and the
    references the catalogue's SQL rules cover."""
    kinds, numbers, refs = set(), set(), set()
    for r in catalogue:
        refs |= set(r.covers)
        if not r.expect or r.layer != "staging":
            continue
        for kind, arg in parse(r.id, r.expect):
            kinds.add((r.table, kind))
            if kind == "not_negative":
                numbers |= {(r.table, f) for f in ([arg] if isinstance(arg, str) else arg)}
    return kinds, numbers, refs


def _volume_sql(spec: SourceSpec, entity) -> str:
    """The current rows of a mapping's raw table after its latest load against those after the load before: a
    finding when more than $max_row_drop of them vanished (or all), whatever the extraction (whole or changes
    only: it counts row versions in force, not rows read)."""
    raw = f"raw.{spec.table_name(entity.name)}"
    loads = f"audit.load_log where system = '{spec.system}' and entity = '{entity.name}'"
    return (
        f"select null::varchar as _raw_id, 'rows' as column_name, "
        f"format('{spec.system}.{entity.source_name}: {{}} -> {{}}', before, now) as value from ("
        f"select count(*) filter (where _valid_to_batch is null) as now, "
        f"count(*) filter (where _batch_id <= p.b and (_valid_to_batch is null or _valid_to_batch > p.b)) as before "
        f"from {raw}, (select max(batch_id) as b from {loads} "
        f"and batch_id < (select max(batch_id) from {loads})) as p) "
        f"where before > 0 and now < before * (1 - $max_row_drop)"
    )


def _unmarked_sql(spec: SourceSpec, entity) -> str:
    """The latest whole read of a table extracted by its change column: a finding when it found rows whose
    content changed while their change column did not move (warehouse/raw.py counts them)."""
    loads = f"audit.load_log where system = '{spec.system}' and entity = '{entity.name}'"
    return (
        f"select null::varchar as _raw_id, '{entity.change_column}' as column_name, "
        f"format('{spec.system}.{entity.source_name}: {{}}', rows_changed_unmarked) as value from {loads} "
        f"and batch_id = (select max(batch_id) from {loads} and extraction = 'full') and rows_changed_unmarked > 0"
    )


def _failing(entity: str, field: str, condition: str, value: str | None = None) -> str:
    """SQL of the rows of ``staging.<entity>`` whose ``field`` is set and meets ``condition``, as a rule reports
    them: raw id, the field, its value as text (or ``value``; a required field's test is on null, so it is not
    limited to set values)."""
    col = quote(field)
    where = condition if value is not None else f"{col} is not null and {condition}"
    shown = value or f"cast({col} as varchar)"
    return f"select _raw_id, '{field}' as column_name, {shown} as value from staging.{entity} where {where}"


def _union(selects) -> str:
    return "\nunion all\n".join(selects)


def _names(fields) -> str:
    return "、".join(f.meaning or f.name for f in fields)


def _rule(rule_id: str, entity: Entity, owner: str, **kw) -> Rule:
    return Rule(id=rule_id, asset=f"staging.{entity.name}", tolerance="0", owner=owner, **kw)


def generated_rules(
    model: Model,
    specs: dict[str, SourceSpec],
    catalogue: list[Rule],
    views: dict[str, str] | None = None,
    costs: dict[str, list[str]] | None = None,
) -> list[Rule]:
    """The generated rules of a college (``costs``: entity -> the national tables it feeds, for the message
    of an entity nothing feeds)."""
    views, costs = views or {}, costs or {}
    owners: dict[str, str] = {}
    feeders: dict[str, list] = {}
    for s in specs.values():
        for e in s.entities.values():
            owners.setdefault(e.canonical, s.department)
            if e.canonical not in views:
                feeders.setdefault(e.canonical, []).append((s, e))
    kinds, numbers, refs = _covered(catalogue)
    by_table = {s.table_name(e.name): (s, e) for s in specs.values() for e in s.entities.values()}
    fed = set(owners) | set(views)
    out: list[Rule] = []
    for name, entity in model.entities.items():
        owner = owners.get(name, NO_SOURCE_OWNER)
        if name not in fed:
            if entity.optional or not costs.get(name):
                continue  # many colleges have none, or no national figure needs it: nothing to warn about
            tables = "、".join(costs[name])
            out.append(
                _rule(
                    f"G-{name}-source", entity, owner, dimension="完整性", severity="warning",
                    inline_sql=f"select null::varchar as _raw_id, 'source' as column_name, '{name}' as value",
                    message=f"没有数据源提供{entity.title}（{name}）：相关国家表为空或不完整（{tables}）",
                    hint="在学校配置的 mappings/ 中为该实体编写映射文件，或由负责部门填报；"
                    "statedata doctor 列出全部缺口",
                )
            )  # fmt: skip
            continue
        sources = feeders.get(name, []) + [
            by_table[t] for t in VIEW_READS.findall(views.get(name, "")) if t in by_table
        ]
        if sources:
            out.append(
                _rule(
                    f"G-{name}-volume", entity, owner, dimension="完整性", severity="error",
                    inline_sql=_union(dict.fromkeys(_volume_sql(s, e) for s, e in sources)),
                    message=f"{entity.title}的源表行数骤减（一次加载减少超过允许比例，或变为空表）",
                    hint="核实源系统是否误删或导出不全；确属正常（如清理历史数据）时，由负责部门说明后重新运行",
                )
            )  # fmt: skip
        marked = [(s, e) for s, e in sources if e.change_column]
        if marked:
            out.append(
                _rule(
                    f"G-{name}-unmarked", entity, owner, dimension="准确性", severity="warning",
                    inline_sql=_union(dict.fromkeys(_unmarked_sql(s, e) for s, e in marked)),
                    message=f"{entity.title}的源表有记录被修改但变更时间列未更新（按变更列增量抽取时会漏掉这类修改）",
                    hint="定期全量核对已补上这些修改；请源系统管理员检查变更时间列为何未随修改更新",
                )
            )  # fmt: skip
        required = [f for f in entity.fields.values() if f.required]
        if required and (name, "required") not in kinds:
            out.append(
                _rule(
                    f"G-{name}-required", entity, owner, dimension="完整性", severity="error",
                    inline_sql=_union(
                        _failing(name, f.name, f"{quote(f.name)} is null", "null::varchar") for f in required
                    ),
                    message=f"{entity.title}的必填项为空（{_names(required)}）",
                    hint="在源系统中补全这些信息",
                )
            )  # fmt: skip
        coded = [f for f in entity.fields.values() if f.codes]
        translated = {  # fields without a national list that a feeding mapping translates: its targets only
            f.name: [(s, e) for s, e in feeders.get(name, []) if f.name in e.translate]
            for f in entity.fields.values()
            if not f.codes and any(f.name in e.translate for _, e in feeders.get(name, []))
        }
        if (coded or translated) and (name, "codes") not in kinds:
            out.append(
                _rule(
                    f"G-{name}-codes", entity, owner, dimension="规范性", severity="error",
                    inline_sql=_union(
                        [
                            _failing(name, f.name, f"{quote(f.name)} not in (select code from core.national_code "
                                     f"where code_table in ('{f.codes}', '{f.codes}_crosswalk'))")
                            for f in coded
                        ]
                        + [
                            _failing(name, field, f"_system = '{s.system}' and {quote(field)} not in (select "
                                     f"target_value from staging.code_translation where system = '{s.system}' "
                                     f"and entity = '{e.name}' and field = '{field}')")
                            for field, pairs in translated.items()
                            for s, e in pairs
                        ]
                    ),
                    message=f"{entity.title}中的代码不是国家标准代码或未对照的值"
                    f"（{_names([*coded, *(entity.fields[t] for t in translated)])}）",
                    hint="按国家标准代码填写；学校系统的代码不同时，在映射文件的 translate 中对照",
                )
            )  # fmt: skip
        key = ", ".join(quote(k) for k in entity.key)
        if (name, "unique") not in kinds:
            out.append(
                _rule(
                    f"G-{name}-unique", entity, owner, dimension="唯一性", severity="error",
                    inline_sql=(
                        f"select _raw_id, '{entity.key[0]}' as column_name, concat_ws('|', {key}) as value "
                        f"from staging.{name} qualify count(*) over (partition by {key}) > 1"
                    ),
                    message=f"{entity.title}的标识重复（{_names(entity.fields[k] for k in entity.key)}）",
                    hint="在源系统中删除或合并重复记录；若系统保留历史版本，在映射文件中用 latest_by 指明以哪条为准",
                )
            )  # fmt: skip
        for f in entity.fields.values():
            if not f.references or f"{name}.{f.name}" in refs:
                continue
            target, _, tfield = f.references.partition(".")
            if target not in fed:
                continue  # nothing to resolve against: the target's own source rule says so
            col, tcol = quote(f.name), quote(tfield)
            out.append(
                _rule(
                    f"G-{name}-{f.name}-ref", entity, owner, dimension="一致性", severity="error",
                    inline_sql=_failing(
                        name, f.name, f"{col} not in (select t.{tcol} from staging.{target} as t "
                        f"where t.{tcol} is not null)"
                    ),
                    message=f"{entity.title}的{f.meaning or f.name}在{model.entities[target].title}中不存在",
                    hint=f"改为{model.entities[target].title}中已有的值，或由负责部门补录",
                )
            )  # fmt: skip
        quantities = [
            f.name
            for f in entity.fields.values()
            if f.type in ("integer", "decimal") and f.unit in QUANTITY_UNITS and (name, f.name) not in numbers
        ]
        if quantities:
            out.append(
                _rule(
                    f"G-{name}-range", entity, owner, dimension="规范性", severity="warning",
                    inline_sql=_union(_failing(name, q, f"{quote(q)} < 0") for q in quantities),
                    message=f"{entity.title}的数量或金额为负数（{_names(entity.fields[q] for q in quantities)}）",
                    hint="核对源系统中的数值；冲销应记在对应的借贷方向上，而不是记为负数",
                )
            )  # fmt: skip
    return out


def rule_set(settings: Settings, specs: dict[str, SourceSpec] | None = None) -> list[Rule]:
    """Every rule a college's run evaluates: the catalogue, then the rules generated for its mappings (read from
    the settings' folder unless given)."""
    catalogue = load_catalogue()
    model = load_model()
    specs = load_mappings(settings.mappings_dir) if specs is None else specs
    costs = downstream(model, all_packs()[-1])
    rules = catalogue + generated_rules(model, specs, catalogue, load_views(settings.college_dir / "views"), costs)
    # each rule addressed to the department as the college calls it (college.yaml departments:)
    return [replace(r, owner=settings.college.department(r.owner)) for r in rules]
