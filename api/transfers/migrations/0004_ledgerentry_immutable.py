"""Ledger entries are immutable in the database too: on PostgreSQL a trigger rejects every
UPDATE and DELETE of an entry (TRUNCATE, which fires no row trigger, still empties the table
for test flushes). SQLite, the embedded demo mode, relies on the model guard alone."""

from django.db import migrations

CREATE = """
CREATE FUNCTION transfers_ledgerentry_immutable() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger entries are immutable: % of entry % rejected', TG_OP, OLD.id
        USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER transfers_ledgerentry_immutable
    BEFORE UPDATE OR DELETE ON transfers_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION transfers_ledgerentry_immutable();
"""

DROP = """
DROP TRIGGER transfers_ledgerentry_immutable ON transfers_ledgerentry;
DROP FUNCTION transfers_ledgerentry_immutable();
"""


def on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("transfers", "0003_transfer_pending_by_sender")]

    operations = [migrations.RunPython(on_postgresql(CREATE), on_postgresql(DROP))]
