"""Why a sync ran, why an item was set aside and how a date was counted are kept as structure
and put into words when read (obligations/wording.py). Reasons already written as English
sentences become their codes where the sentence is one the sync wrote; any other text is kept
and shown as written."""

from django.db import migrations, models

# The sentences the sync used to write, by the code that now stands for each.
KNOWN = {
    "The obligation was removed from the catalogue.": {"code": "removed"},
    "The event it ran from was deleted.": {"code": "event_deleted"},
    "The event was reported; the duty is tracked per event from now on.": {"code": "event_tracked"},
    "The period is no longer part of the obligation's schedule.": {"code": "schedule_changed"},
}


def keep_texts(apps, schema_editor):
    """Old reasons become codes where they are one of the fixed sentences, so that they read in
    either language; "No longer applies: ..." keeps its code without the reason's structure."""
    ChecklistItem = apps.get_model("obligations", "ChecklistItem")
    for item in ChecklistItem.objects.exclude(superseded_text="").only("pk", "superseded_text"):
        text = item.superseded_text
        why = KNOWN.get(text) or text
        if text.startswith("No longer applies"):
            why = {"code": "not_applicable", "reason": None}
        ChecklistItem.objects.filter(pk=item.pk).update(superseded_reason=why)


def restore_texts(apps, schema_editor):
    ChecklistItem = apps.get_model("obligations", "ChecklistItem")
    for item in ChecklistItem.objects.exclude(superseded_reason={}).only("pk", "superseded_reason"):
        why = item.superseded_reason
        text = why if isinstance(why, str) else why.get("code", "")
        ChecklistItem.objects.filter(pk=item.pk).update(superseded_text=text)


class Migration(migrations.Migration):
    dependencies = [("obligations", "0010_applicability_labels")]

    operations = [
        migrations.RenameField("checklistitem", "superseded_reason", "superseded_text"),
        migrations.AddField(
            model_name="checklistitem",
            name="superseded_reason",
            field=models.JSONField(
                blank=True,
                default=dict,
                help_text='Why it was set aside, as structure: {"code": "removed"}; see wording.py.',
            ),
        ),
        migrations.RunPython(keep_texts, restore_texts),
        migrations.RemoveField("checklistitem", "superseded_text"),
        migrations.AddField(
            model_name="itemhistory",
            name="context",
            field=models.JSONField(
                blank=True,
                default=dict,
                help_text="For changes the system made: the cause, why the item was set aside, how a date was counted.",
            ),
        ),
        migrations.AlterField(
            model_name="itemhistory",
            name="note",
            field=models.TextField(blank=True, help_text="What the person wrote; the system writes none."),
        ),
        migrations.AlterField(
            model_name="checklistitem",
            name="due_basis",
            field=models.JSONField(
                blank=True,
                default=dict,
                help_text="How the due date was computed: rule, start, steps, estimated, pending.",
            ),
        ),
    ]
