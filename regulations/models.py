"""What the law says: instruments, their provisions, the roles and facts they speak of, and the
obligations they create. Rows are written only by the catalogue loader (services.py) from the
reviewed YAML files; nothing else edits them."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .applicability import TRACKS
from .explain import provision_label


class Jurisdiction(models.Model):
    code = models.CharField(primary_key=True, max_length=20)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    name_zh = models.CharField(max_length=100)
    name_en = models.CharField(max_length=100)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class Role(models.Model):
    key = models.SlugField(max_length=60, unique=True)
    name_zh = models.CharField(max_length=100)
    name_en = models.CharField(max_length=200)
    description_en = models.TextField(blank=True)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key


class Fact(models.Model):
    """A question a rule may ask about an organization; the catalogue's conditions use only
    these."""

    class Type(models.TextChoices):
        SET = "set"
        ENUM = "enum"
        BOOLEAN = "boolean"
        NUMBER = "number"
        JURISDICTION = "jurisdiction"
        JURISDICTION_SET = "jurisdiction_set"

    key = models.SlugField(max_length=60, unique=True)
    type = models.CharField(max_length=20, choices=Type.choices)
    name_zh = models.CharField(max_length=100, blank=True)
    name_en = models.CharField(max_length=100, blank=True)
    values = models.JSONField(default=list, blank=True, help_text="Allowed values with zh/en names.")
    unit = models.CharField(max_length=20, blank=True)
    question_zh = models.CharField(max_length=200, blank=True)
    question_en = models.CharField(max_length=200, blank=True)
    description_zh = models.TextField(blank=True)
    description_en = models.TextField(blank=True)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order"]

    def __str__(self) -> str:
        return self.key


class EventType(models.Model):
    key = models.SlugField(max_length=60, unique=True)
    name_zh = models.CharField(max_length=100)
    name_en = models.CharField(max_length=200)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key


class Instrument(models.Model):
    class Status(models.TextChoices):
        DRAFT_FOR_COMMENT = "draft_for_comment", _("Draft for comment")
        TRIAL = "trial", _("Trial")
        IN_FORCE = "in_force", _("In force")
        EXPIRED = "expired", _("Expired")
        REPEALED = "repealed", _("Repealed")

    class Nature(models.TextChoices):
        LAW = "law"
        ADMINISTRATIVE_REGULATION = "administrative_regulation"
        DEPARTMENTAL_RULE = "departmental_rule"
        LOCAL_REGULATION = "local_regulation"
        LOCAL_GOVERNMENT_RULE = "local_government_rule"
        NORMATIVE_DOCUMENT = "normative_document"
        POLICY_DOCUMENT = "policy_document"
        ACTION_PLAN = "action_plan"
        WORK_POINTS = "work_points"
        INCENTIVE_MEASURES = "incentive_measures"

    class SourceKind(models.TextChoices):
        FULL_TEXT = "full_text"
        EXCERPT = "excerpt"
        SUMMARY = "summary"
        EXTERNAL = "external"

    code = models.SlugField(max_length=80, unique=True)
    title_zh = models.CharField(max_length=300)
    title_en = models.CharField(max_length=300)
    short_title_en = models.CharField(max_length=200, blank=True)
    short_title_zh = models.CharField(max_length=30, blank=True)
    issuer_zh = models.CharField(max_length=300)
    issuer_en = models.CharField(max_length=300, blank=True)
    document_number = models.CharField(max_length=100, blank=True)
    jurisdiction = models.ForeignKey(Jurisdiction, on_delete=models.PROTECT, related_name="instruments")
    place_basis = models.JSONField(
        default=list,
        help_text="The place facts that bring an organization under the instrument: registered_in, operates_in, "
        "data_sourced_in, public_data_of.",
    )
    nature = models.CharField(max_length=40, choices=Nature.choices)
    nature_zh = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices)
    promulgated = models.DateField(null=True, blank=True)
    published = models.DateField(null=True, blank=True)
    effective = models.DateField(null=True, blank=True)
    expires = models.DateField(null=True, blank=True)
    validity_note = models.TextField(blank=True)
    summary_en = models.TextField(blank=True)
    source_kind = models.CharField(max_length=20, choices=SourceKind.choices)
    source_origin = models.CharField(max_length=300)
    source_notes = models.TextField(blank=True)
    source_text = models.TextField()
    # Instruments that leave the catalogue are retired, not deleted: checklists cite them.
    retired = models.BooleanField(default=False)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires__isnull=True) | Q(effective__isnull=True) | Q(expires__gte=models.F("effective")),
                name="instrument_expires_after_effective",
            ),
        ]

    def __str__(self) -> str:
        return self.code

    def short_title_in(self, lang: str) -> str:
        """The short name readers cite it by, in their language ("zh" or "en")."""
        if lang == "zh":
            return self.short_title_zh or self.title_zh
        return self.short_title_en or self.title_en


class Phase(models.Model):
    """A lifecycle phase shared by all instruments (instrument is null) or a timeline phase of
    one instrument, such as the APP notice's filing window."""

    instrument = models.ForeignKey(Instrument, null=True, blank=True, on_delete=models.CASCADE, related_name="phases")
    key = models.SlugField(max_length=60)
    name_zh = models.CharField(max_length=100)
    name_en = models.CharField(max_length=200)
    start = models.DateField(null=True, blank=True)
    end = models.DateField(null=True, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["instrument_id", "start", "key"]
        constraints = [
            models.UniqueConstraint(
                fields=["key"], condition=Q(instrument__isnull=True), name="phase_shared_key_unique"
            ),
            models.UniqueConstraint(fields=["instrument", "key"], name="phase_instrument_key_unique"),
        ]

    def __str__(self) -> str:
        return self.key


class Provision(models.Model):
    instrument = models.ForeignKey(Instrument, on_delete=models.CASCADE, related_name="provisions")
    label = models.CharField(max_length=100)
    text = models.TextField()
    order = models.PositiveIntegerField()

    class Meta:
        ordering = ["instrument_id", "order"]
        constraints = [models.UniqueConstraint(fields=["instrument", "label"], name="provision_label_unique")]

    def __str__(self) -> str:
        return f"{self.instrument.code} {self.label}"

    def label_in(self, lang: str) -> str:
        """第十九条 for Chinese readers, Art. 19 for English ones."""
        return provision_label(self.label, lang)


class Act(models.Model):
    """One act several obligations ask for (the algorithm filing asked by the Deep Synthesis
    Provisions art. 19 and by the Algorithm Recommendation Provisions art. 24): done once, it
    fulfils each of them. Curated in the vocabulary's ``acts``."""

    key = models.SlugField(max_length=100, unique=True)
    name_zh = models.CharField(max_length=200)
    name_en = models.CharField(max_length=200)
    description_zh = models.TextField(blank=True)
    description_en = models.TextField(blank=True)

    def __str__(self) -> str:
        return self.key

    def name_in(self, lang: str) -> str:
        return self.name_zh if lang == "zh" else self.name_en


class Obligation(models.Model):
    class Modality(models.TextChoices):
        MUST = "must", _("must")
        MUST_NOT = "must_not", _("must not")
        SHOULD = "should", _("should")
        MAY = "may", _("may")
        ENCOURAGED = "encouraged", _("encouraged")

    class Kind(models.TextChoices):
        DUTY = "duty", _("Duty")
        PROHIBITION = "prohibition", _("Prohibition")
        TARGET = "target", _("Target")
        INCENTIVE = "incentive", _("Incentive or opportunity")
        AUTHORITY_DUTY = "authority_duty", _("Authority duty")

    TRACKS = TRACKS  # where each kind lands (regulations.applicability)

    class DeadlineKind(models.TextChoices):
        FIXED = "fixed"
        WINDOW = "window"
        AFTER_EVENT = "after_event"
        BEFORE_EVENT = "before_event"
        RECURRING = "recurring"
        QUALITATIVE = "qualitative"
        ONGOING = "ongoing"

    instrument = models.ForeignKey(Instrument, on_delete=models.CASCADE, related_name="obligations")
    key = models.SlugField(max_length=100, help_text="The obligation's id in its catalogue file.")
    provision = models.ForeignKey(Provision, on_delete=models.PROTECT, related_name="obligations")
    see_also = models.ManyToManyField(Provision, blank=True, related_name="+")
    penalty_provision = models.ForeignKey(
        Provision, null=True, blank=True, on_delete=models.PROTECT, related_name="penalized_obligations"
    )
    roles = models.ManyToManyField(Role, related_name="obligations")
    actor_zh = models.CharField(max_length=300)
    modality = models.CharField(max_length=20, choices=Modality.choices)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    phase = models.ForeignKey(Phase, on_delete=models.PROTECT, related_name="obligations")
    quote_zh = models.TextField()
    summary_en = models.TextField()
    summary_zh = models.TextField(blank=True)
    conditions = models.JSONField(null=True, blank=True)
    awaited_by = models.JSONField(
        default=list,
        blank=True,
        help_text="For an authority's act: the roles that wait for it (an APP operator waits for the filing "
        "decision); they see its date as what to expect.",
    )
    deadline = models.JSONField()
    deadline_kind = models.CharField(max_length=20, choices=DeadlineKind.choices)
    interpretation = models.TextField(blank=True)
    interpretation_zh = models.TextField(blank=True)
    external_facts = models.TextField(blank=True)
    # A curator's unsettled question about the reading: while it stands the obligation
    # needs review with it, instead of applying unseen.
    open_question = models.TextField(blank=True)
    open_question_zh = models.TextField(blank=True)
    act = models.ForeignKey(
        Act,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="obligations",
        help_text="The act it asks for, when other obligations ask for it too.",
    )
    order = models.PositiveIntegerField()
    retired = models.BooleanField(default=False)

    class Meta:
        ordering = ["instrument_id", "order"]
        constraints = [
            models.UniqueConstraint(fields=["instrument", "key"], name="obligation_key_unique"),
            models.CheckConstraint(
                condition=Q(kind="prohibition", modality="must_not")
                | (~Q(kind="prohibition") & ~Q(modality="must_not")),
                name="obligation_prohibition_is_must_not",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.instrument.code}:{self.key}"

    def summary_in(self, lang: str) -> str:
        """The plain-language summary in the reader's language ("zh" or "en")."""
        return self.summary_zh if lang == "zh" and self.summary_zh else self.summary_en

    def reference_in(self, lang: str) -> str:
        """Where it comes from, as a reader cites it: 深度合成管理规定 第十九条."""
        return f"{self.instrument.short_title_in(lang)} {self.provision.label_in(lang)}"

    def title_in(self, lang: str) -> str:
        """The one name of an item everywhere (pages, emails, calendars, files, the API):
        where it comes from and what it asks, in the reader's language."""
        return f"{self.reference_in(lang)}{'：' if lang == 'zh' else ': '}{self.summary_in(lang)}"

    def interpretation_in(self, lang: str) -> str:
        return self.interpretation_zh if lang == "zh" and self.interpretation_zh else self.interpretation


class CatalogVersion(models.Model):
    """One row per load that changed the catalogue: what was loaded, when, and what changed."""

    content_hash = models.CharField(max_length=64)
    loaded_at = models.DateTimeField(auto_now_add=True)
    instruments = models.PositiveIntegerField()
    provisions = models.PositiveIntegerField()
    obligations = models.PositiveIntegerField()
    changes = models.JSONField(default=dict, help_text="Rows created, updated and retired, per model.")

    class Meta:
        ordering = ["-loaded_at", "-id"]
        get_latest_by = ["loaded_at", "id"]

    def __str__(self) -> str:
        return f"{self.content_hash[:12]} ({self.loaded_at:%Y-%m-%d %H:%M})"


class HolidaySchedule(models.Model):
    """A year's State Council holiday schedule recorded by an operator. It takes precedence
    over the bundled ``chinesecalendar`` data and over the Monday-to-Friday fallback."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    holidays = models.JSONField(
        default=list, help_text='Rest days beyond weekends: [{"date": "2027-01-01", "name": "New Year"}]'
    )
    makeup_workdays = models.JSONField(default=list, help_text='Weekend days that are working days: ["2027-02-06"]')
    source = models.CharField(max_length=300, help_text="The notice the schedule comes from.")
    recorded_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["year"]

    def __str__(self) -> str:
        return str(self.year)
