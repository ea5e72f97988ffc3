-- The warehouse layers (one DuckDB schema each) and the audit tables every run writes.
create schema if not exists raw;
create schema if not exists staging;
create schema if not exists core;
create schema if not exists platform;
create schema if not exists audit;

-- Facts about the warehouse itself (e.g. which version of this file and the code tables it holds).
create table if not exists audit.meta (
    key varchar primary key,
    value varchar not null
);

-- One row per extraction batch of one source system; a batch is committed all or nothing.
create table if not exists audit.batch (
    batch_id bigint primary key,
    system varchar not null,
    source varchar not null,          -- redacted URL or folder: never credentials
    started_at timestamptz not null,
    finished_at timestamptz,
    status varchar not null           -- committed (a failed batch leaves no row behind), or unchanged: the source
                                      -- was probed and found as the last committed batch read it (nothing read)
);

-- Per entity and batch: the accounting rows_read = rows_inserted + rows_unchanged + rows_quarantined.
create table if not exists audit.load_log (
    batch_id bigint not null,
    system varchar not null,
    entity varchar not null,
    rows_read bigint not null,
    rows_inserted bigint not null,
    rows_unchanged bigint not null,
    rows_closed bigint not null,      -- versions that ended: changed or deleted at the source
    rows_quarantined bigint not null,
    files_rejected bigint not null,   -- whole files that could not be used (each with a message in audit.quarantine)
    primary key (batch_id, entity)
);
-- how the entity was read: 'full' (every row: a reconciliation of keys and row hashes) or 'changed' (only rows
-- whose change column moved); on a full read of an entity with a change column, the rows found changed while
-- their change column had not moved (an incremental read would have missed them)
alter table audit.load_log add column if not exists extraction varchar;
alter table audit.load_log add column if not exists rows_changed_unmarked bigint;

-- Rows that could not be loaded, with the reason; nothing is dropped silently.
create table if not exists audit.quarantine (
    batch_id bigint not null,
    system varchar not null,
    entity varchar not null,
    source varchar not null,
    row_key varchar,                  -- null: the whole file named in `source` was set aside
    source_column varchar,
    raw_value varchar,
    reason varchar not null
);

-- Every output file written, with its checksum.
create table if not exists audit.export_log (
    run_id varchar not null,
    academic_year varchar not null,
    table_id varchar not null,
    path varchar not null,
    row_count bigint not null,
    sha256 varchar not null,
    written_at timestamptz not null
);

-- What each core table and each academic year of a platform table was last built from (warehouse/builds.py):
-- the key of its inputs and the content the build left ('' as the year of a table not partitioned by year).
create table if not exists audit.build (
    layer varchar not null,
    name varchar not null,
    academic_year varchar not null,
    inputs varchar not null,
    content varchar not null,
    run_id varchar,
    built_at timestamptz not null,
    primary key (layer, name, academic_year)
);

-- National code tables, loaded from model/codes/*.csv.
create table if not exists core.national_code (
    code_table varchar not null,
    code varchar not null,
    name varchar not null,
    primary key (code_table, code)
);

-- Value translations declared in the mapping files (source value -> national code/name).
create table if not exists staging.code_translation (
    system varchar not null,
    entity varchar not null,
    field varchar not null,
    source_value varchar not null,
    target_value varchar not null,
    primary key (system, entity, field, source_value)
);

-- tr(system, entity, field, value): the translated value, or the value itself when no translation applies.
create or replace macro staging.tr(sys, ent, fld, val) as coalesce(
    (select t.target_value from staging.code_translation t
     where t.system = sys and t.entity = ent and t.field = fld and t.source_value = val), val);

-- code_name(table, code): the national name of a code, or the code itself when it is not in the table.
create or replace macro core.code_name(tbl, c) as coalesce(
    (select n.name from core.national_code n where n.code_table = tbl and n.code = c), c);

-- Every evaluation of a catalogue rule (expectations/catalogue.yaml), kept with its history.
create table if not exists audit.rule_result (
    run_id varchar not null,
    academic_year varchar not null,
    rule_id varchar not null,
    asset varchar not null,           -- the asset the rule guards, e.g. platform.student
    severity varchar not null,        -- error | warning
    passed boolean not null,
    failing bigint not null,          -- rows that break the rule
    checked bigint not null,          -- rows the rule looked at (the guarded table's rows of the year)
    tolerance varchar not null,
    checked_at timestamptz not null,
    fingerprint varchar               -- of the tables the rule examined (warehouse/fingerprint.py): the gate's proof
);
-- a warehouse made before results were bound to their data gets the column (empty: never accepted by the gate)
alter table audit.rule_result add column if not exists fingerprint varchar;

-- The full list of failing rows of every evaluation, traced to the source row where there is one.
create table if not exists audit.rule_failure (
    run_id varchar not null,
    academic_year varchar not null,
    rule_id varchar not null,
    source_system varchar,
    source_table varchar,
    source_key varchar,
    column_name varchar,
    value varchar,
    raw_id varchar
);

-- Cell lineage (warehouse/lineage.py): the source rows each aggregated cell of a national table counts or
-- sums, with the amount each contributes, for the latest run of each table and academic year.
create schema if not exists lineage;
create table if not exists lineage.cell (
    run_id varchar not null,
    academic_year varchar not null,
    table_name varchar not null,
    row_key varchar not null,       -- the national table's key values joined by '|'
    column_name varchar not null,
    _raw_id varchar,                -- the contributing source row version (raw.*), or
    via varchar,                    -- another cell whose value it adds: '<table>|<row key>|<column>'
    amount double not null          -- 1 for a count; the value summed for a sum; the factor of a via cell
);
