"""Each cluster gets its own API bearer token; existing clusters each draw a fresh one."""

from django.db import migrations, models

import cluster.models


def give_each_cluster_a_token(apps, schema_editor):
    # AddField's callable default is evaluated once for all existing rows: draw one per row.
    Cluster = apps.get_model("cluster", "Cluster")
    for row in Cluster.objects.all():
        row.token = cluster.models.new_token()
        row.save(update_fields=["token"])


class Migration(migrations.Migration):

    dependencies = [
        ("cluster", "0008_owner_index_by_kind"),
    ]

    operations = [
        migrations.AddField(
            model_name="cluster",
            name="token",
            field=models.CharField(default="", max_length=64),
            preserve_default=False,
        ),
        migrations.RunPython(give_each_cluster_a_token, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="cluster",
            name="token",
            field=models.CharField(default=cluster.models.new_token, max_length=64),
        ),
    ]
