"""The rules' inputs version becomes a count of changes in a table only ever added to (RuleInputsChange), in place
of 0013's one row that deferred triggers changed at commit: on PostgreSQL, a writer holding that row's lock could
wait at its commit for a foreign key's row that another writer held, and the other for the row (a deadlock). The
new triggers are made by agreements.rule_inputs.install after every migrate; here the old ones are dropped."""

from importlib import import_module

from django.db import migrations, models

FIRST = import_module("agreements.migrations.0013_rule_inputs")


def restore_first(apps, schema_editor):
    FIRST.create_version(apps, schema_editor)
    FIRST.create_triggers(apps, schema_editor)


def drop_counting_triggers(apps, schema_editor):
    from agreements import rule_inputs

    rule_inputs.uninstall(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("agreements", "0013_rule_inputs")]

    operations = [
        migrations.RunPython(FIRST.drop_triggers, restore_first),
        migrations.DeleteModel(name="RuleInputs"),
        migrations.CreateModel(
            name="RuleInputsChange",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("weight", models.BigIntegerField(default=1)),
            ],
        ),
        migrations.RunPython(migrations.RunPython.noop, drop_counting_triggers),
    ]
