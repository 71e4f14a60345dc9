from django.db import migrations

REASONS = [
    ("not_our_remit", "不属于本单位职责"),
    ("wrong_locality", "不属于本辖区"),
    ("unclear_ownership", "职责不清需协调"),
    ("duplicate", "重复工单"),
    ("insufficient_info", "诉求信息不全无法办理"),
    ("other", "其他"),
]


def create_reasons(apps, schema_editor):
    ReturnReason = apps.get_model("tickets", "ReturnReason")
    for code, name in REASONS:
        ReturnReason.objects.get_or_create(code=code, defaults={"name": name})


class Migration(migrations.Migration):
    dependencies = [("tickets", "0001_initial")]
    operations = [migrations.RunPython(create_reasons, migrations.RunPython.noop)]
