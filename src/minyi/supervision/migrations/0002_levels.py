from django.db import migrations

LEVELS = [
    (1, "reminder", "催办提醒", 1),
    (2, "formal_notice", "正式督办通知", 2),
    (3, "unit_leader", "报单位领导督办", 2),
    (4, "public_list", "列入公开通报", 3),
]


def create(apps, schema_editor):
    SupervisionLevel = apps.get_model("supervision", "SupervisionLevel")
    for level, code, name, days in LEVELS:
        SupervisionLevel.objects.get_or_create(
            level=level, defaults={"code": code, "name": name, "response_working_days": days}
        )


class Migration(migrations.Migration):
    dependencies = [("supervision", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
