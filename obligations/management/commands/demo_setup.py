from django.conf import settings
from django.core.management.base import BaseCommand

from obligations.services import demo_setup


class Command(BaseCommand):
    help = "Create a demo organization and an admin user for trying the service locally."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="demo")
        parser.add_argument("--password", default="demo-password-123")

    def handle(self, *args, username, password, **options):
        organization, _ = demo_setup(username=username, password=password, organization_name="Demo Company")
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo organization '{organization.name}' (id {organization.pk}).\n"
                f"Sign in at {settings.SITE_URL}/ (admin at /admin/, API docs at /api/docs/) "
                f"with username '{username}' and password '{password}'."
            )
        )
