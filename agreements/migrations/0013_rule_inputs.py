"""What the rules' inputs version counts (agreements.rule_inputs): the changes table. Its triggers are made by
agreements.rule_inputs.install after every migrate, and dropped here when this migration is reversed."""

from django.db import migrations, models


def drop_triggers(apps, schema_editor):
    from agreements import rule_inputs

    rule_inputs.uninstall(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("agreements", "0012_dashboard_list_indexes")]

    operations = [
        migrations.CreateModel(
            name="RuleInputsChange",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("weight", models.BigIntegerField(default=1)),
            ],
        ),
        migrations.RunPython(migrations.RunPython.noop, drop_triggers),
    ]
