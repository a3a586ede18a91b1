"""Opportunities apart from duties: items of incentive obligations are listed as opportunities,
never reminded and never overdue. Existing items take their track from their obligation."""

from django.conf import settings
from django.db import migrations, models


def set_tracks(apps, schema_editor):
    ChecklistItem = apps.get_model("obligations", "ChecklistItem")
    ChecklistItem.objects.filter(obligation__kind="incentive").update(track="opportunity")


class Migration(migrations.Migration):
    dependencies = [
        ("obligations", "0011_structured_history"),
        ("regulations", "0004_fact_names"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="checklistitem",
            name="obligations_organiz_38eb3c_idx",
        ),
        migrations.AddField(
            model_name="checklistitem",
            name="track",
            field=models.CharField(
                choices=[("duty", "Duty"), ("opportunity", "Opportunity")], default="duty", max_length=12
            ),
        ),
        migrations.RunPython(set_tracks, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="checklistitem",
            index=models.Index(
                fields=["organization", "track", "superseded_at", "due_date"], name="obligations_organiz_f1228c_idx"
            ),
        ),
    ]
