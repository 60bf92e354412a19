import factory

from accounts import services, tenancy
from accounts.models import Company, SalesRole, Team, User

PASSWORD = "correct-horse-battery"


class CompanyFactory(factory.Factory):
    """A company as the product makes one: standard sales roles and the KPI catalogue."""

    class Meta:
        model = Company

    name = factory.Sequence(lambda n: f"Компания {n}")

    @classmethod
    def _create(cls, model_class: type, **kwargs: object) -> Company:
        return services.company_create(**kwargs)


class TeamFactory(factory.Factory):
    class Meta:
        model = Team

    company = factory.SubFactory(CompanyFactory)
    name = factory.Sequence(lambda n: f"Команда {n}")
    head = None

    @classmethod
    def _create(cls, model_class: type, company: Company, **kwargs: object) -> Team:
        with tenancy.tenant_context(company):
            return services.team_create(company=company, **kwargs)


class UserFactory(factory.Factory):
    """A user made through the service; a manager gets the hunter role unless told otherwise."""

    class Meta:
        model = User

    company = factory.SubFactory(CompanyFactory)
    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name", locale="ru_RU")
    last_name = factory.Faker("last_name", locale="ru_RU")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    password = PASSWORD
    role = User.Role.MANAGER
    is_company_admin = False
    team = None
    sales_role = None
    # The cast logs in with PASSWORD as it is, not as a temporary password to replace.
    password_is_temporary = False

    @classmethod
    def _create(cls, model_class: type, company: Company, **kwargs: object) -> User:
        with tenancy.tenant_context(company):
            if kwargs["role"] == User.Role.MANAGER and kwargs["sales_role"] is None:
                kwargs["sales_role"] = SalesRole.objects.get(
                    company=company, kind=SalesRole.Kind.HUNTER
                )
            return services.user_create(company=company, **kwargs)
