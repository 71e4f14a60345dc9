from django.db import migrations
from django.db.models import F

OUTCOMES = [
    # code, name, counts as resolved
    ("resolved", "已解决", True),
    ("partly_resolved", "部分解决", False),
    ("explained", "已解释说明（暂无法解决）", False),
    ("planned", "已纳入计划分步解决", False),
    ("referred", "已告知其他办理途径", False),
]


def create_outcomes(apps, schema_editor):
    ReplyOutcome = apps.get_model("tickets", "ReplyOutcome")
    for order, (code, name, resolved) in enumerate(OUTCOMES, start=1):
        ReplyOutcome.objects.get_or_create(code=code, defaults={"name": name, "resolved": resolved, "order": order})
    # Replies written before outcomes existed reached the requester when written.
    Reply = apps.get_model("tickets", "Reply")
    Reply.objects.filter(published_at=None).update(published_at=F("created_at"))


class Migration(migrations.Migration):
    dependencies = [("tickets", "0007_feedback_loop")]
    operations = [migrations.RunPython(create_outcomes, migrations.RunPython.noop)]
