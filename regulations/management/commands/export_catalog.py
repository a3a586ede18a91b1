import json

from django.core.management.base import BaseCommand
from rest_framework.renderers import JSONRenderer

from regulations.api.serializers import InstrumentDetailSerializer
from regulations.selectors import instrument_detail


class Command(BaseCommand):
    help = "Print the whole catalogue as JSON, in the shape of the API's instrument detail."

    def handle(self, *args, **options):
        data = InstrumentDetailSerializer(instrument_detail(), many=True).data
        # Through DRF's renderer so dates and decimals come out exactly as the API gives them.
        self.stdout.write(json.dumps(json.loads(JSONRenderer().render(data)), ensure_ascii=False, indent=2))
