"""Reply-quality screening rules (`minyi.supervision.quality`): pure, no database.

The examples are written by us (not taken from any data set). The last test measures the
perfunctory rule against the labels in tests/data/perfunctory_labels.csv, read with the
teddy2020 replies from ../shared/datasets/ (skipped when the data set is absent).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from minyi.supervision import quality
from minyi.supervision.quality import (
    IRRELEVANT,
    PASTED,
    PERFUNCTORY,
    REASONS,
    UNDATED_PROMISE,
    RelevanceStats,
    Screening,
    Thresholds,
    relevance,
    screen,
    undated_promises,
)

ROOT = Path(__file__).resolve().parent.parent
LABELS = ROOT / "tests" / "data" / "perfunctory_labels.csv"
FJ4 = ROOT.parent / "shared" / "datasets" / "teddy2020" / "fj4_messages_with_replies.csv"

STREETLIGHT = (
    "和平路与文化街交叉口的三盏路灯已经坏了一个多月，晚上路口一片漆黑，"
    "行人和电动车经常险些相撞，请有关部门尽快维修路灯。"
)
NOISE = "幸福小区3栋楼下的烧烤摊每天营业到凌晨两点，油烟和噪音严重扰民，多次投诉无人处理。"
SCHOOL = "孩子今年9月上小学一年级，户口在城东街道，房子在城西街道，请问应该到哪所学校报名？"


# --------------------------------------------------------------------------------------------
# (b) Perfunctory: boilerplate alone
# --------------------------------------------------------------------------------------------

PERFUNCTORY_REPLIES = [
    ("ack_only", "网友：您好！您的来信已收到。"),
    ("ack_only", "您好，您反映的问题已收悉。感谢您对我们工作的关心和支持！2026年3月2日"),
    ("ack_only", "已收悉"),
    ("forward_only", "您的留言已收悉。关于您反映的问题，已转市城市管理局调查处理。"),
    ("forward_only", "网友您好！您反映的情况已转交和平街道办事处核实、办复。感谢您的留言！"),
    ("forward_only", "您好，请咨询市人力资源和社会保障部门。"),
    ("vague_only", "您的来信已收到，我们将尽快处理。"),
    ("vague_only", "您好！您反映的问题我局高度重视，已安排专人跟进，敬请关注后续回复。"),
    ("vague_only", "来信收悉，相关部门正在处理中，请您耐心等待。"),
]


@pytest.mark.parametrize(("criterion", "reply"), PERFUNCTORY_REPLIES)
def test_boilerplate_alone_is_perfunctory(criterion: str, reply: str) -> None:
    result = screen(STREETLIGHT, reply)
    assert result.perfunctory, (criterion, quality.substance(reply))
    finding = next(f for f in result.findings if f.code == PERFUNCTORY)
    assert finding.reason == REASONS[PERFUNCTORY]
    assert finding.evidence  # the phrases that were set aside
    assert IRRELEVANT not in result.codes  # a perfunctory reply is not also reported as off-topic


CONCRETE_REPLIES = [
    # result of an inspection, action taken, date
    "网友您好！经现场核查，和平路与文化街交叉口三盏路灯因电缆被挖断损坏。"
    "3月2日我局已更换电缆，三盏路灯已恢复照明。感谢您的监督！",
    # dated commitment
    "您好，经核实该路口路灯线路老化，需整体更换，我局已完成采购，将于12月5日前完成更换。",
    # a short factual answer
    "经查，该路段路灯由区城管局负责维护，已于昨日修复。",
    # forwarded, and what came of it
    "您的留言已收悉，已转区城管局办理。区城管局3月1日派员检修，更换灯具3套，路灯已恢复正常。",
    # a referral with a concrete contact
    "您好，路灯报修可直接拨打市城管服务热线0755-12345678，24小时受理。",
]


@pytest.mark.parametrize("reply", CONCRETE_REPLIES)
def test_concrete_reply_is_not_perfunctory(reply: str) -> None:
    result = screen(STREETLIGHT, reply)
    assert not result.perfunctory, quality.substance(reply)
    assert PERFUNCTORY not in result.codes


def test_consultation_answered_briefly_is_not_perfunctory() -> None:
    reply = "您好！按照招生政策，按房产所在地划片入学，您的孩子应到城西小学报名。"
    assert not screen(SCHOOL, reply).perfunctory


def test_substance_reports_what_was_set_aside() -> None:
    s = quality.substance("网友：您好！您的留言已收悉，已转市住建局调查处理。感谢您的留言！2026年1月5日")
    assert s.chars == 0
    assert s.kept == ()
    assert {"formula", "forward"} <= s.kinds()


def test_threshold_is_a_parameter() -> None:
    reply = "您好，已收悉，和平路的路灯已修好。"
    assert not screen(STREETLIGHT, reply).perfunctory
    assert screen(STREETLIGHT, reply, thresholds=Thresholds(substance_min_chars=20)).perfunctory


# --------------------------------------------------------------------------------------------
# (c) Undated promises
# --------------------------------------------------------------------------------------------

UNDATED = [
    "经核实情况属实，我们将尽快处理。",
    "该路段已纳入维修计划，近期将安排施工。",
    "我局已约谈物业公司，后续会跟进整改情况。",
    "下一步我局将协调供电部门解决。",
    "待资金落实后，将立即组织施工。",
    "已转相关部门处理，敬请关注后续回复。",
]
DATED_OR_NOT_PROMISE = [
    "经核实情况属实，我局将于12月5日前完成维修。",
    "该路段已纳入维修计划，12月5日前完成施工。",
    "我局将在三个工作日内答复您。",
    "路灯已于3月2日修复。",
    "如发现违法行为，将依法查处。",
    "如有疑问，请拨打0755-12345678咨询。",
    "建议您携带身份证到街道办事处办理。",
    "我局将继续加强管理，做好服务工作。",
    "现将有关情况回复如下：路灯已修复。",
]


@pytest.mark.parametrize("reply", UNDATED)
def test_promise_without_date_is_flagged(reply: str) -> None:
    assert undated_promises(reply), reply
    result = screen(STREETLIGHT, reply)
    finding = next(f for f in result.findings if f.code == UNDATED_PROMISE)
    assert finding.evidence == undated_promises(reply)


@pytest.mark.parametrize("reply", DATED_OR_NOT_PROMISE)
def test_dated_promise_or_no_promise_is_not_flagged(reply: str) -> None:
    assert undated_promises(reply) == (), reply
    assert UNDATED_PROMISE not in screen(STREETLIGHT, reply).codes


def test_undated_promise_inside_a_concrete_reply() -> None:
    reply = "经现场核查，三盏路灯因电缆老化损坏，我局已更换其中两盏，剩余一盏我们将尽快修复。"
    result = screen(STREETLIGHT, reply)
    assert not result.perfunctory
    assert result.codes == (UNDATED_PROMISE,)
    assert result.findings[0].evidence == (reply,)


# --------------------------------------------------------------------------------------------
# Pasted replies
# --------------------------------------------------------------------------------------------

STOCK = "您好！您反映的问题我局已组织人员调查核实，已责令相关单位限期整改，整改情况我局将持续跟踪督办。感谢您的监督！"


def test_same_reply_on_unrelated_request_is_pasted() -> None:
    others = [(NOISE, STOCK.replace("您好！", "网友您好！")), (SCHOOL, "城西小学的报名时间是7月1日至7月5日。")]
    result = screen(STREETLIGHT, STOCK, other_replies=others)
    finding = next(f for f in result.findings if f.code == PASTED)
    assert finding.others == (0,)
    assert finding.reason == REASONS[PASTED]
    assert result.perfunctory  # a pasted text answers neither request


def test_same_reply_on_the_same_matter_is_not_pasted() -> None:
    again = "文化街和平路路口的路灯坏了好久了，晚上太黑，希望尽快把路灯修好。"
    result = screen(STREETLIGHT, STOCK, other_replies=[(again, STOCK)])
    assert PASTED not in result.codes


def test_different_reply_is_not_pasted() -> None:
    other = "经核查，幸福小区3栋楼下烧烤摊系无证经营，城管执法中队已于3月1日依法取缔。"
    result = screen(STREETLIGHT, STOCK, other_replies=[(NOISE, other)])
    assert PASTED not in result.codes


def test_pasted_ignores_handle_and_date() -> None:
    a = "网友“UU001”您好！留言已收悉，已转区住建局调查处理。2026年1月5日"
    b = "网友“UU002”您好！留言已收悉，已转区住建局调查处理。2026年2月9日"
    assert quality.text_similarity(quality.shingles(a), quality.shingles(b)) == 1.0


# --------------------------------------------------------------------------------------------
# (a) Relevance and irrelevant replies
# --------------------------------------------------------------------------------------------

ON_TOPIC = (
    "您好！经现场核查，和平路与文化街交叉口的三盏路灯因线路老化损坏，"
    "我局已于3月2日更换线路和灯具，路灯已恢复照明。"
)
OFF_TOPIC = (
    "您好！根据本市义务教育招生政策，适龄儿童按户籍和房产所在地划片入学，"
    "报名时需提供户口簿、房产证和儿童预防接种证，具体可咨询所在学区的小学。"
)


def test_relevance_orders_replies() -> None:
    on, off = relevance(STREETLIGHT, ON_TOPIC), relevance(STREETLIGHT, OFF_TOPIC)
    assert 0.0 <= off < on <= 1.0
    assert on > 0.5
    assert off < Thresholds().relevance_min


def test_relevance_is_deterministic_and_bounded() -> None:
    assert relevance(STREETLIGHT, ON_TOPIC) == relevance(STREETLIGHT, ON_TOPIC)
    assert relevance("", "") == 0.0
    assert relevance(STREETLIGHT, STREETLIGHT) == pytest.approx(1.0)


def test_irrelevant_reply_is_flagged_with_missing_words() -> None:
    result = screen(STREETLIGHT, OFF_TOPIC)
    assert result.codes == (IRRELEVANT,)
    assert not result.perfunctory
    assert "路灯" in result.findings[0].evidence
    assert result.findings[0].reason == REASONS[IRRELEVANT]


def test_relevant_concrete_reply_is_clean() -> None:
    result = screen(STREETLIGHT, ON_TOPIC)
    assert result == Screening(relevance=result.relevance, perfunctory=False, findings=())
    assert not result.flagged


def test_stats_round_trip(tmp_path: Path) -> None:
    texts = ["路灯坏了请维修", "路灯不亮", "小区噪音扰民", "学校报名咨询", "路灯维修"]
    stats = RelevanceStats.build(texts, [(t, "城乡建设" if "路灯" in t else "其他") for t in texts],
                                 min_df=1, min_topic_df=1, min_log_odds=0.1)
    path = tmp_path / "stats.tsv.gz"
    stats.save(path)
    loaded = RelevanceStats.load(path)
    assert loaded.documents == 5
    assert loaded.df == stats.df
    assert loaded.labels == stats.labels
    assert loaded.topic == stats.topic
    assert relevance("路灯坏了", "路灯已维修", stats=loaded) == relevance("路灯坏了", "路灯已维修", stats=stats)


# --------------------------------------------------------------------------------------------
# The labels, against the real replies
# --------------------------------------------------------------------------------------------


def _tidy(text: str) -> str:
    return re.sub(r"\s+", " ", (text or "").replace("_x000D_", " ")).strip()


def test_perfunctory_labels_precision_and_recall() -> None:
    if not FJ4.exists():
        pytest.skip(f"teddy2020 data set absent ({FJ4}); see /work/shared/datasets/README.md")
    with open(FJ4, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    with open(LABELS, encoding="utf-8", newline="") as fh:
        labels = list(csv.DictReader(fh))
    assert len(labels) >= 300
    counts = {split: [0, 0, 0] for split in ("tune", "holdout", "all")}  # tp, fp, fn
    for lab in labels:
        row = rows[int(lab["row"])]
        assert row["留言编号"] == lab["message_id"]
        request = _tidy(row["留言主题"]) + "\n" + _tidy(row["留言详情"])
        guess = screen(request, _tidy(row["答复意见"])).perfunctory
        truth = lab["label"] == "1"
        for split in (lab["split"], "all"):
            counts[split][0] += truth and guess
            counts[split][1] += guess and not truth
            counts[split][2] += truth and not guess
    for split in ("all", "holdout"):
        tp, fp, fn = counts[split]
        precision, recall = tp / (tp + fp), tp / (tp + fn)
        assert precision >= 0.9, (split, counts[split])
        assert recall >= 0.9, (split, counts[split])
