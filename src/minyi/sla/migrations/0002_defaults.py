from django.db import migrations

POLICIES = [("consultation", 2), ("help", 10), ("suggestion", 10), ("complaint", 15), ("report", 15)]
REASONS = [
    ("hard_case", "办理难度大"),
    ("new_facts", "诉求人补充新情况新理由"),
    ("natural_disaster", "发生自然灾害等不可抗力"),
    ("other", "其他"),
]


def create(apps, schema_editor):
    TimeLimitPolicy = apps.get_model("sla", "TimeLimitPolicy")
    ExtensionReason = apps.get_model("sla", "ExtensionReason")
    for request_type, days in POLICIES:
        TimeLimitPolicy.objects.get_or_create(
            request_type=request_type, category=None, defaults={"working_days": days, "urgent_hours": 24}
        )
    for code, name in REASONS:
        ExtensionReason.objects.get_or_create(code=code, defaults={"name": name})


class Migration(migrations.Migration):
    dependencies = [("sla", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
