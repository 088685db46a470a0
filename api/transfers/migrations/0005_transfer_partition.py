from django.db import migrations, models


def assign_partitions(apps, schema_editor):
    """Existing rows get their sender's partition (sender account id modulo the count)."""
    from django.conf import settings

    Transfer = apps.get_model("transfers", "Transfer")
    Transfer.objects.update(partition=models.F("sender_id") % settings.SETTLEMENT_PARTITIONS)


class Migration(migrations.Migration):
    dependencies = [("transfers", "0004_ledgerentry_immutable")]

    operations = [
        migrations.AddField(
            model_name="transfer",
            name="partition",
            field=models.SmallIntegerField(default=0),
            preserve_default=False,
        ),
        migrations.RunPython(assign_partitions, migrations.RunPython.noop),
        migrations.RemoveIndex(model_name="transfer", name="transfer_pending"),
        migrations.AddIndex(
            model_name="transfer",
            index=models.Index(
                condition=models.Q(("status", "PENDING")),
                fields=["partition", "id"],
                name="transfer_pending",
            ),
        ),
    ]
