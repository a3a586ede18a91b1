"""POST /api/v1/deadlines/compute: the deadline calculus as a public endpoint."""

import datetime as dt

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from config.api import StrictFieldsMixin, language

from ..deadlines import MAX_DATE, MIN_DATE, Direction, Unit, compute
from ..selectors import work_calendar

MAX_AMOUNT = {Unit.CALENDAR_DAYS: 36500, Unit.WORKING_DAYS: 25000, Unit.MONTHS: 1200, Unit.YEARS: 100}


def within_bounds(value: dt.date) -> dt.date:
    """Dates the service accepts anywhere: far enough for any legal period, near enough that
    date arithmetic cannot overflow."""
    if not MIN_DATE <= value <= MAX_DATE:
        raise serializers.ValidationError(f"Must be between {MIN_DATE} and {MAX_DATE}.")
    return value


class DeadlineRequestSerializer(StrictFieldsMixin, serializers.Serializer):
    start = serializers.DateField(help_text="The day the period runs from (not counted).")
    amount = serializers.IntegerField(min_value=0)
    unit = serializers.ChoiceField(choices=[u.value for u in Unit])
    direction = serializers.ChoiceField(choices=[d.value for d in Direction], default=Direction.AFTER.value)

    def validate_start(self, value):
        return within_bounds(value)

    def validate(self, attrs):
        limit = MAX_AMOUNT[Unit(attrs["unit"])]
        if attrs["amount"] > limit:
            raise serializers.ValidationError({"amount": [f"At most {limit} {attrs['unit']}."]})
        return attrs


class DeadlineResponseSerializer(serializers.Serializer):
    due_date = serializers.DateField()
    estimated = serializers.BooleanField(
        help_text="True when a year without a published holiday schedule was involved."
    )
    explanation = serializers.ListField(
        child=serializers.CharField(), help_text="How the date was computed, step by step, in the request's language."
    )
    skipped_rest_days = serializers.ListField(child=serializers.DateField())
    makeup_days_counted = serializers.ListField(child=serializers.DateField())


@extend_schema(
    request=DeadlineRequestSerializer,
    responses={200: DeadlineResponseSerializer},
    summary="Compute a due date under the Civil Code and the Chinese working-day calendar",
    operation_id="deadlines_compute",
    examples=[
        OpenApiExample(
            "20 working days", value={"start": "2023-09-20", "amount": 20, "unit": "working_days", "direction": "after"}
        )
    ],
)
@api_view(["POST"])
@authentication_classes([])
@permission_classes([AllowAny])
def compute_deadline(request):
    payload = DeadlineRequestSerializer(data=request.data)
    payload.is_valid(raise_exception=True)
    result = compute(calendar=work_calendar(), **payload.validated_data)
    return Response(DeadlineResponseSerializer({**vars(result), "explanation": result.lines(language(request))}).data)
