from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..models import CatalogVersion, EventType, Fact, Instrument, Jurisdiction, Obligation, Phase, Provision, Role


class JurisdictionSerializer(serializers.ModelSerializer):
    # The serializer metaclass pops declared fields off the class, so this does not shadow
    # Field.parent at run time; the stubs cannot know that.
    parent = serializers.CharField(source="parent_id", allow_null=True)  # type: ignore[assignment]

    class Meta:
        model = Jurisdiction
        fields = ["code", "parent", "name_zh", "name_en"]


class RoleSerializer(serializers.ModelSerializer):
    class Meta:
        model = Role
        fields = ["key", "name_zh", "name_en", "description_en"]


class FactSerializer(serializers.ModelSerializer):
    # The list also gives each event type as a fact of type event_date (FactViewSet.list).
    type = serializers.ChoiceField(choices=[*Fact.Type.values, "event_date"])
    values = serializers.SerializerMethodField(help_text="Allowed values (jurisdiction codes for place facts).")

    class Meta:
        model = Fact
        fields = ["key", "type", "values", "unit", "question_zh", "question_en", "description_zh", "description_en"]

    def get_values(self, fact) -> list[dict]:
        if fact.type.startswith("jurisdiction"):
            return self.context["jurisdictions"]
        return fact.values


class EventTypeSerializer(serializers.ModelSerializer):
    class Meta:
        model = EventType
        fields = ["key", "name_zh", "name_en"]


class PhaseSerializer(serializers.ModelSerializer):
    class Meta:
        model = Phase
        fields = ["key", "name_zh", "name_en", "start", "end", "note"]


class ProvisionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Provision
        fields = ["label", "text", "order"]


class ObligationSerializer(serializers.ModelSerializer):
    """One duty on one role, in the catalogue file's own field names."""

    id = serializers.CharField(source="key")
    instrument = serializers.CharField(source="instrument.code")
    ref = serializers.CharField(source="provision.label")
    provision_text = serializers.CharField(source="provision.text")
    see_also = serializers.SerializerMethodField()
    penalty_ref = serializers.CharField(source="penalty_provision.label", allow_null=True, default=None)
    roles = serializers.SerializerMethodField()
    phase = serializers.CharField(source="phase.key")
    conditions = serializers.JSONField(allow_null=True)
    deadline = serializers.JSONField()

    class Meta:
        model = Obligation
        fields = [
            "id", "instrument", "ref", "provision_text", "see_also", "penalty_ref", "roles", "actor_zh",
            "modality", "kind", "phase", "quote_zh", "summary_en", "summary_zh", "conditions", "deadline",
            "interpretation", "interpretation_zh", "external_facts", "open_question", "open_question_zh",
        ]  # fmt: skip

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_see_also(self, ob: Obligation) -> list[str]:
        return [p.label for p in ob.see_also.all()]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_roles(self, ob: Obligation) -> list[str]:
        return sorted(r.key for r in ob.roles.all())


class InstrumentListSerializer(serializers.ModelSerializer):
    jurisdiction = serializers.CharField(source="jurisdiction_id")

    class Meta:
        model = Instrument
        fields = [
            "code", "title_zh", "title_en", "short_title_zh", "short_title_en", "issuer_zh", "issuer_en",
            "document_number",
            "jurisdiction", "nature", "status", "promulgated", "published", "effective", "expires",
        ]  # fmt: skip


class SourceSerializer(serializers.Serializer):
    kind = serializers.CharField(source="source_kind")
    origin = serializers.CharField(source="source_origin")
    notes = serializers.CharField(source="source_notes")


class InstrumentDetailSerializer(InstrumentListSerializer):
    # Declared field, popped off the class by the metaclass: no clash with Field.source (stub limitation).
    source = SourceSerializer(source="*")  # type: ignore[assignment]
    phases = PhaseSerializer(many=True)
    obligations = ObligationSerializer(many=True, source="active_obligations")

    class Meta(InstrumentListSerializer.Meta):
        fields = [
            *InstrumentListSerializer.Meta.fields,
            "nature_zh",
            "validity_note",
            "summary_en",
            "source",
            "phases",
            "obligations",
        ]


class CatalogVersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = CatalogVersion
        fields = ["content_hash", "loaded_at", "instruments", "provisions", "obligations", "changes"]


class ChangedSerializer(serializers.Serializer):
    title = serializers.CharField(help_text="In the request's language.")
    changed = serializers.ListField(
        child=serializers.CharField(), help_text="For amended ones: what changed, in words."
    )


class ChangedInstrumentSerializer(ChangedSerializer):
    instrument = serializers.CharField(help_text="The instrument's code.")


class ChangedObligationSerializer(ChangedSerializer):
    obligation = serializers.CharField(help_text="The obligation's reference, instrument-code:key.")


class InstrumentChangesSerializer(serializers.Serializer):
    added = ChangedInstrumentSerializer(many=True)
    amended = ChangedInstrumentSerializer(many=True)
    retired = ChangedInstrumentSerializer(many=True)


class ObligationChangesSerializer(serializers.Serializer):
    added = ChangedObligationSerializer(many=True)
    amended = ChangedObligationSerializer(many=True)
    retired = ChangedObligationSerializer(many=True)


class CatalogChangelogSerializer(serializers.Serializer):
    """One catalogue version and what it changed (documentation of the changelog's rows)."""

    content_hash = serializers.CharField()
    loaded_at = serializers.DateTimeField()
    size = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="Instruments, provisions and obligations in the catalogue after this load.",
    )
    instruments = InstrumentChangesSerializer(help_text="Instruments added, amended and retired by this load.")
    obligations = ObligationChangesSerializer(help_text="Obligations added, amended and retired by this load.")
