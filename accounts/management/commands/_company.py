"""The company a backup command names by its code (not a command: the underscore)."""

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from accounts.models import Company


def company_of_code(code: str) -> Company:
    try:
        found = Company.objects.filter(code=code).first()
    except ValidationError as error:
        raise CommandError(f"not a company code: {code}") from error
    if found is None:
        raise CommandError(f"no company with the code {code}")
    return found
