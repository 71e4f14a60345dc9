"""Reply-quality screening: pure rules that read a request and its reply, no database.

Three questions a supervisor asks of every reply (criteria in ``docs/quality-screening.md``):

- (a) does it answer *this* request? ``relevance`` scores the overlap of request and reply, 0..1:
  TF-IDF cosine of character bigrams (IDF learned from citizens' messages) blended with the
  agreement of their topics (per-category weights of the same bigrams). Place codes, numbers
  and names count through their bigrams, weighted by how rare they are. A reply with substance
  but a score under ``Thresholds.relevance_min`` is ``irrelevant``.
- (b) is it perfunctory? ``substance`` sets aside formulae (salutation, acknowledgement,
  thanks, signature), forwarding notices (已转…调查处理) and generic undertakings (将尽快处理,
  高度重视) and measures what is left; too little left is ``perfunctory``. A reply that is
  near-identical to one the same unit gave to an unrelated request is ``pasted``.
- (c) does it promise without a date? ``undated_promises`` returns the sentences that commit to
  a future action on the matter (将尽快处理, 近期将安排, 后续会跟进, 待…后将…) and give no date,
  deadline or period.

``screen`` runs all of them and returns a ``Screening`` with ``Finding`` records whose ``code``
is stable and whose ``reason`` is an English msgid (translate it with ``gettext`` where it is
shown). Everything here is deterministic; the statistics table
(``data/relevance_stats.tsv.gz``) is loaded once, on first use, and never changes afterwards.
"""

from __future__ import annotations

import gzip
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

from django.utils.translation import gettext_noop

from minyi.assist.text import clean

STATS_PATH = Path(__file__).resolve().parent / "data" / "relevance_stats.tsv.gz"

IRRELEVANT = "irrelevant"
PERFUNCTORY = "perfunctory"
UNDATED_PROMISE = "undated_promise"
PASTED = "pasted"

# Stable codes → English msgids: marked for extraction (makemessages), translated where shown
# with gettext(finding.reason). They never carry data.
REASONS: dict[str, str] = {
    IRRELEVANT: gettext_noop("The reply has little in common with the request: it does not seem to answer it."),
    PERFUNCTORY: gettext_noop(
        "The reply only acknowledges, forwards or promises to handle the request; "
        "it gives no finding, action taken, answer or dated commitment."
    ),
    UNDATED_PROMISE: gettext_noop("The reply promises further handling without a date or deadline."),
    PASTED: gettext_noop("The same reply was given to an unrelated request."),
}


@dataclass(frozen=True)
class Thresholds:
    # `relevance` under which a reply with substance is flagged as not answering the request.
    relevance_min: float = 0.05
    # Characters of substance (after formulae, forwarding and generic undertakings are set
    # aside) a reply needs to not be perfunctory.
    substance_min_chars: int = 8
    # Similarity (Jaccard of character 3-grams) from which two replies are the same text.
    duplicate_similarity: float = 0.8
    # `request_similarity` under which two requests are about different things.
    unrelated_request_max: float = 0.2


@dataclass(frozen=True)
class Finding:
    code: str  # "irrelevant" | "perfunctory" | "undated_promise" | "pasted"
    reason: str  # English msgid, REASONS[code]
    evidence: tuple[str, ...]  # words, phrases or sentences that triggered it
    others: tuple[int, ...] = ()  # for "pasted": indexes into `other_replies`


@dataclass(frozen=True)
class Screening:
    relevance: float
    perfunctory: bool
    findings: tuple[Finding, ...] = field(default_factory=tuple)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(f.code for f in self.findings)

    @property
    def flagged(self) -> bool:
        return bool(self.findings)


# --------------------------------------------------------------------------------------------
# Text units
# --------------------------------------------------------------------------------------------

_RUN = re.compile(r"[\u4e00-\u9fff]+|[a-z0-9]+")
_HANDLE = re.compile(r"UU\d+|A0{2,}\d+", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[。！？!?；;])|\n")
_CLAUSE_SPLIT = re.compile(r"[，,。！？!?；;：:\n（）()]+")
_MEANINGFUL = re.compile(r"[\u4e00-\u9fff]|[a-z0-9]+", re.IGNORECASE)


def _normalise(text: str) -> str:
    return clean(text).replace("\u3000", " ")


def sentences(text: str) -> list[str]:
    """The cleaned text cut after 。！？； (the unit of the undated-promise rule)."""
    return [s.strip() for s in _SENTENCE_END.split(_normalise(text)) if s and s.strip()]


def _meaningful_len(text: str) -> int:
    return len(_MEANINGFUL.findall(text))


# --------------------------------------------------------------------------------------------
# (b) Substance: what is left once formulae, forwarding and generic undertakings are set aside
# --------------------------------------------------------------------------------------------

_UNIT = r"(?:[\u4e00-\u9fffA-Za-z0-9“”\"]{0,24}?)"
_VERB = (
    r"(?:调查|处理|核处|核实|核查|办理|办复|处置|答复|回复|反馈|关注|研究|落实|解决|跟进|查处|审核|调处|核办|督办)"
)
# a forwarding notice runs to its handling verbs (…调查、核处) or to the end of the clause
_HANDLING = r"[^，。；]{0,30}?(?:(?:予以|进行|作出|做出|尽快|及时|依法)?" + _VERB + r"(?:[、和及并]?" + _VERB + r")*|$)"

# F1: formulae (salutation, acknowledgement, lead-ins, thanks, wishes, closings, signature).
_FORMULA = [
    # acknowledgement: from the clause start to the acknowledging verb (keeps what follows,
    # as in 收到投诉后我局立即派员…)
    r"^.{0,40}?(?:收悉|获悉|阅悉|知悉|已阅办?|收阅|(?:已经?|均已)(?:收到|收集|记录|登记|受理))",
    r"^(?:接到|收到)(?:您|你)?的?(?:来信|留言|投诉|反映|网帖|帖文|信件|信访件|函件)后?",
    # salutation and the requester's handle
    r"^(?:尊敬的|亲爱的|各位|致)?(?:网友|网民|市民|来信人|来信网友|来信同志|写信人|问政网友|网民朋友|朋友|同志|先生|女士|群众)?"
    r"[^，。！？]{0,20}?(?:您好|你好|你们好|大家好|朋友们好|朋友好|同志好)$",
    r"^(?:尊敬的|亲爱的|各位)?(?:网友|网民|市民|来信人|来信网友|来信同志|写信人|问政网友|网民朋友)[^，。！？]{0,12}$",
    r"^“[^”]{0,30}”$",
    # lead-ins
    r"(?:现|特|今|兹)?(?:将|就|把)?[^，。]{0,24}?(?:回复|答复|说明|汇报|函复|告知|反馈)如下",
    r"^(?:现|特)(?:予|作|此)?(?:回复|答复|函复)$",
    r"^(?:关于|针对|对于|就)?(?:您|你)?(?:所|在)?(?:反映|反应|提出|咨询|提到|来信|留言|关心|关注)(?:的|中)?(?:问题|情况|事项|事宜|建议|意见|诉求)?$",
    r"(?:关于|针对|对于|就)?(?:您|你|帖文中|网帖中|留言中|来信中|信中)(?:所|在)?(?:反映|反应|提出|咨询|提到|来信|留言)(?:的|中)?(?:问题|情况|事项|事宜|建议|意见|诉求)",
    # thanks, apologies, wishes, closings
    r"(?:非常|再次|衷心|十分|特别)?(?:感谢|谢谢|多谢|感激)[^。！？]*",
    r"(?:敬请|恳请|请|望|希望)?(?:您|你|广大)?(?:的)?(?:谅解|理解|支持|配合|监督)[^，。]{0,20}$",
    r"给(?:您|你)[^，。]{0,10}?(?:带来|造成)[^，。]{0,10}?不便",
    r"祝(?:您|你)[^，。！]*",
    r"欢迎[^。]{0,30}?(?:监督|指导|关注|支持|建议|意见)",
    r"特此(?:回复|答复|函复|说明|告知)|此复|专此(?:回复|答复)|以上(?:是|为)[^，。]{0,20}?(?:回复|答复)",
    r"如(?:果|您|你)?(?:对)?(?:本|此|我们的|回复)?[^，。]{0,10}?(?:有|还有)(?:其他|其它|任何|新的|不清楚|不满意)?[^，。]{0,12}?(?:疑问|问题|意见|建议|不满意|不明白)",
    # signature: the reply's date, a unit's name
    r"^(?:二[〇○零0]|\d{2})[\d〇○零一二三四五六七八九十]{2}\s*[年.\-/]\s*[\d〇○零一二三四五六七八九十]{1,3}\s*[月.\-/]\s*[\d〇○零一二三四五六七八九十]{1,3}\s*日?$",
    r"^\d{4}\.\d{1,2}\.\d{1,2}$",
    r"\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日$",
]
# the unit's name as a signature: only among the last clauses of the reply or before a date
_SIGNATURE = re.compile(
    r"^[\u4e00-\u9fffA-Z0-9]{2,24}(?:局|办|办公室|政府|办事处|中心|委员会|委|大队|中队|公司|医院|学校|法院|管委会|支行|分局|街道|镇|乡|院|所|站|科|股|处)"
    r"(?:\s*(?:二[〇○零0]|\d{2})[\d〇○零一二三四五六七八九十]{2}\s*年\s*[\d〇○零一二三四五六七八九十]{1,2}\s*月"
    r"(?:\s*[\d〇○零一二三四五六七八九十]{1,3}\s*日)?)?$"
)
_NOT_A_NAME = re.compile(r"[已将转请您你的了在于对把向被由给]")
_DATED = re.compile(r"^\s*(?:二[〇○零0]|\d{2})[\d〇○零一二三四五六七八九十]{2}\s*[年.\-/]")

# F2: forwarding, referral without a contact, "answered elsewhere".
_FORWARD = [
    r"(?:已|已经|并|现已|均已|将|会|拟|正在|我们已|我办已|我局已)?(?:移交|转交|转至|转到|转给|转由|转办|交办|交由|转送|呈报|报送|上报|汇报给|汇报至|反馈给|反馈至|报告给)"
    + _HANDLING,
    r"(?:已|已经|并|现已)转(?:相关|有关|市|县|区|省|镇|乡|街道|[A-Z]\d{0,2}|[\u4e00-\u9fff]{2,8}(?:局|办|镇|乡|县|区|市|中心|政府|公司|部门|单位))" + _HANDLING,
    r"(?:已|已经)将[^，。；]{0,20}?(?:转|移交|转交|交由|交办|上报|反馈)" + _HANDLING,
    r"(?:已|已经)?(?:向|给)" + _UNIT + r"(?:进行了?)?(?:汇报|反馈|报告|转达)",
    r"正在交办中?",
    r"^(?:我办|我局|我委|我们)?已[^，。；]{2,20}?(?:核处|办复|核办)$",
    r"(?:相关|有关)?(?:单位|部门|" + _UNIT + r"(?:局|办|政府))?(?:已经?|已)?(?:作出|做出|进行过?)?(?:回复|答复)(?:过)?$",
    r"(?:链接|详见|见附件|附件)[^，。]*",
    # referral without contact: 请咨询K市人社部门, 建议您到…咨询
    r"^(?:具体|详情)?(?:问题)?(?:请|建议)(?:您|你)?(?:具体|直接|详细|先|可)?(?:到|向|与|联系|咨询|询问)?"
    + _UNIT
    + r"(?:咨询|询问|反映|联系|了解|办理|申请)?(?:相关情况|情况|有关情况|问题)?$",
    r"(?:您|你)?(?:也)?(?:可|可以)(?:直接)?(?:到|向|与|联系)" + _UNIT + r"(?:咨询|询问|反映|联系)(?:相关情况|情况)?$",
    # not our remit
    r"(?:不|并不|均不)(?:归|属于?|在)(?:我|本)" + _UNIT + r"(?:管辖|职责|职能|范围|业务)(?:范围|之内|内)?",
]

# F3: generic undertakings and non-answers.
_VAGUE = [
    r"(?:领导|党委|政府|我局|我办|我们|我单位)?(?:高度|十分|非常|极为)重视",
    r"(?:将|会|并|立即|迅速|马上|及时|已)?(?:尽快|尽早|及时|抓紧|积极|认真|迅速|立即|依法|依规|妥善|全力)*"
    r"(?:组织|安排|派|指派)?(?:专人|人员|工作人员)?(?:介入)?"
    r"(?:研究|处理|办理|核实|调查|跟进|落实|反馈|回复|答复|考虑|论证|解决|协调|核查|处置)(?:和|及|并|、)?"
    r"(?:研究|处理|办理|核实|调查|跟进|落实|反馈|回复|答复|考虑|论证|解决|协调|核查|处置)?(?:工作)?",
    r"(?:敬请|请|请您|请你)(?:关注|留意|注意|等待|耐心等待)[^，。]{0,12}",
    r"(?:目前|现)?(?:正在|正)(?:处理|办理|交办|核实|调查|报送审批|审批|研究|调研|核查|落实)(?:中|当中|之中)?",
    r"(?:进一步|请|请您)?(?:完善|补充|提供)(?:相关|个人|详细|具体)?(?:信息|资料|联系方式)",
    r"(?:因|由于)?(?:您|你)?(?:没有|未|未能)(?:提供|留下|说明|注明)[^，。]{0,20}",
    r"(?:无法|不能|暂不能|暂无法|难以)(?:确定|查实|核实|具体答复|答复|联系|回复|了解)[^，。]{0,10}",
    r"(?:我们|我局)?(?:目前)?(?:不知道|不清楚|不了解)[^，。]{0,20}",
    r"(?:以便|便于)(?:处理|处置|核实|办理)",
    r"(?:最大限度|尽最大努力|尽可能)?满足[^，。]{0,20}?需求",
    r"(?:如有|若有)(?:相关|新的|进展|处理)?(?:情况|结果|进展|回复)?[^，。]{0,6}?(?:将|会)?(?:及时|第一时间)?(?:反馈|告知|回复|通知)[^，。]{0,10}",
    r"(?:处理|办理)(?:情况|结果)(?:将|会)?(?:及时)?(?:向您|向你)?(?:反馈|告知)",
    r"(?:将|会)(?:第一时间|及时)?(?:在网上|通过平台|向您|向你)?(?:告知|反馈|回复|通知)(?:您|你)?$",
    r"(?:加强|改进|做好)[^，。]{0,6}?(?:管理|工作|服务)$",
    r"(?:我们|我局|我办)?(?:将|会)(?:更加|继续|一如既往)[^，。]{0,20}",
]

_FORMULA_RE = [re.compile(p) for p in _FORMULA]
_FORWARD_RE = [re.compile(p) for p in _FORWARD]
_VAGUE_RE = [re.compile(p) for p in _VAGUE]
_PHONE = re.compile(r"(?<!\d)(?:0\d{2,3}[-－—–]?)?\d{7,8}(?!\d)|(?<!\d)1[3-9]\d{9}(?!\d)|(?<!\d)0000[-－—–]0{4,}|(?<!\d)123\d{2}(?!\d)")
# A clause needs this much left to count; smaller leftovers are fragments of the formulae.
_CLAUSE_MIN = 4


@dataclass(frozen=True)
class Substance:
    chars: int  # meaningful characters left in clauses that count
    contact: bool  # a telephone number: a concrete referral
    kept: tuple[str, ...]  # the clauses that count as substance
    set_aside: tuple[tuple[str, str], ...]  # (kind, phrase): "formula" | "forward" | "vague"

    def kinds(self) -> set[str]:
        return {kind for kind, _ in self.set_aside}


def _strip(clause: str, patterns: list[re.Pattern[str]], kind: str, out: list[tuple[str, str]]) -> str:
    for pattern in patterns:
        m = pattern.search(clause)
        while m and m.group(0):
            out.append((kind, m.group(0)))
            clause = clause[: m.start()] + " " + clause[m.end() :]
            m = pattern.search(clause)
    return clause


def substance(reply_text: str, *, enough: int | None = None) -> Substance:
    """Measure what a reply says beyond formulae, forwarding and generic undertakings.

    With `enough`, stop reading as soon as that many characters of substance (or a contact)
    are found: the answer to "is it perfunctory?" without the cost of the whole analysis."""
    text = _HANDLE.sub(" ", _normalise(reply_text))
    kept: list[str] = []
    set_aside: list[tuple[str, str]] = []
    chars = 0
    contact = False
    clauses = [c.strip(" 、.·…—-\"'“”《》") for c in _CLAUSE_SPLIT.split(text)]
    clauses = [c for c in clauses if c]
    for i, clause in enumerate(clauses):
        if (
            _SIGNATURE.match(clause)
            and not _NOT_A_NAME.search(clause)
            and (i >= len(clauses) - 2 or _DATED.match(clauses[i + 1]))
        ):
            set_aside.append(("formula", clause))
            continue
        if _PHONE.search(clause):  # a concrete contact answers something (where to go, whom to call)
            kept.append(clause)
            contact = True
            continue
        rest = _strip(clause, _FORMULA_RE, "formula", set_aside)
        rest = _strip(rest, _FORWARD_RE, "forward", set_aside)
        rest = _strip(rest, _VAGUE_RE, "vague", set_aside)
        n = _meaningful_len(rest)
        if n >= _CLAUSE_MIN:
            kept.append(clause)
            chars += n
        if enough is not None and (chars >= enough or contact):
            break
    return Substance(chars=chars, contact=contact, kept=tuple(kept), set_aside=tuple(set_aside))


def perfunctory_reason(reply_text: str, thresholds: Thresholds | None = None) -> tuple[str, ...] | None:
    """The phrases that make a reply perfunctory (boilerplate alone), or None when it is not."""
    t = thresholds or Thresholds()
    s = substance(reply_text, enough=t.substance_min_chars)
    if s.chars >= t.substance_min_chars or s.contact:
        return None
    phrases: list[str] = []
    for _kind, phrase in s.set_aside:
        p = phrase.strip(" ，,。")
        if p and p not in phrases:
            phrases.append(p)
    return tuple(phrases[:6]) or ("(empty)",)


# --------------------------------------------------------------------------------------------
# (c) Undated promises
# --------------------------------------------------------------------------------------------

_FUTURE = re.compile(
    # 将 as "will": not 已将/现将 (the 把 construction), not 将其/将该 (把 + object), not 将被/将视为
    r"(?<![已现并均都经特请])将(?!近|军|来|其|该|此|这|上述|被|视为|是|成为|出现|面临|无法|不|会|要求您)(?![^，。]{0,20}如下)"
    r"|(?:我们|我局|我办|我单位|我镇|我乡|我街道|我委|我院|我校|我司|我队|我部|我中心|政府|部门|单位|也|还|都|一定|同时|并|稍后|随后|后续|今后|以后|届时)会(?![议同计员长所场谈商])"
    r"|(?<![贷议调员委务事协评例常党大全谈座开年社机学工商])会(?:尽快|尽早|及时|立即|马上|认真|积极|安排|组织|进一步|继续|加强|协调|督促|跟进|处理|解决|研究|考虑|反馈|回复|答复|联系|重新|再)"
    r"|(?:后|之后|以后)[^，。；]{0,8}?(?<![贷议调员委务事协评例常党大全谈座开年社机学工商])会(?![议同计员长所场谈商])"
    r"|(?:争取|力争|计划于|准备|打算)(?=[\u4e00-\u9fff])"
    r"|拟(?=于|在|将|对|由|从|安排|启动|开展|实施|建设|修建|新建|开工|组织|召开|进行|采取|纳入|列入|调整|增设|改造|解决)"
    r"|(?:待|等)[^，。；]{1,30}?(?:后|时)[，,]?[^，。；]{0,6}?(?:再|即|将|会|马上|立即|尽快)"
    r"|(?:下一步|下阶段|下一阶段|稍后|择机|适时|日后)(?=[^，。]{0,12}(?:将|会|再|安排|处理|解决|跟进|研究|推进|实施|落实|反馈|回复))"
    r"|(?:敬请|请)(?:您)?(?:关注|留意)(?:后续|近期)?(?:的)?(?:回复|处理结果|结果)"
)
_TIME = re.compile(
    r"\d{1,4}\s*[年月日号]|\d{1,2}[:：]\d{2}|[〇○零一二三四五六七八九十]{1,3}月[〇○零一二三四五六七八九十]{0,3}[日号]?"
    r"|(?:本|下|这|当)(?:周|星期|月|季度|年度?)|(?:今|明|后|当)年|年(?:底|内|末|初|前)|月(?:底|末|初|中|前)|上旬|中旬|下旬"
    r"|[上下]半年|[一二三四]季度|\d+\s*(?:个)?(?:工作日|日|天|周|星期|个月|月|小时)(?:内|之内|以内|前)"
    r"|[一二两三四五六七八九十半]+\s*(?:个)?(?:工作日|天|周|星期|个月|小时)(?:内|之内|以内)"
    r"|(?:春节|国庆|元旦|中秋|汛期|开学|雨季|冬季|夏季|暑假|寒假)(?:前|之前|以前|后)"
    r"|当天|当日|次日|明天|今天|近两天|月内|周内|年前|节前|届时"
)
_VAGUE_TIME = re.compile(r"尽快|尽早|近期|近段时间|近日|后续|下一步|稍后|日后|择机|适时|早日")
_CONDITIONAL = re.compile(r"^\s*(?:如|若|如果|假如|一旦|凡|倘若|如若|若是)(?!下|实|期|今|同|上)")
_NOT_PROMISE = re.compile(
    r"^(?:建议|请)(?:您|你)|^(?:您|你)(?:可|可以|需|需要|应|应当)"
    r"|(?:将|会)(?:继续|一如既往|更加|不断)(?:努力|做好|加强|完善|改进|提升|提高)[^，。]{0,12}(?:工作|服务|水平)"
    r"|^(?:将|会)(?:继续|一如既往|更加|不断)(?:努力|做好|加强|完善|改进|提升|提高)[^，。]{0,4}(?:工作|服务|管理|监管|水平)(?:[，,。；！]|$)"
    r"|竭诚为您服务|为您服务|为你服务"
)
_SEGMENT = re.compile(r"[，,；;：:]")


def undated_promises(reply_text: str) -> tuple[str, ...]:
    """Sentences committing to a future action on the matter without a date, deadline or period."""
    found: list[str] = []
    for sentence in sentences(reply_text):
        for m in _FUTURE.finditer(sentence):
            segments = _SEGMENT.split(sentence[: m.start()])
            own = segments[-1]  # the clause the promise sits in, up to the marker
            # a conditional statement ("如发现…，将依法查处"): an earlier clause starts with "if"
            if any(_CONDITIONAL.search(seg) for seg in segments):
                continue
            # a date anywhere in the sentence dates the promise, unless the promise's own clause
            # sets a vague time itself (县里将在近段时间发放到位 is undated whatever else is dated)
            rest = _SEGMENT.split(sentence[m.start() :])[0]
            if _TIME.search(sentence) and not _VAGUE_TIME.search(own + rest):
                continue
            if _NOT_PROMISE.search(own.strip()) or _NOT_PROMISE.search(sentence[m.start() :]):
                continue
            found.append(sentence)
            break
    return tuple(found)


# --------------------------------------------------------------------------------------------
# (a) Relevance
# --------------------------------------------------------------------------------------------


def grams(text: str) -> list[str]:
    """Relevance features: character bigrams of each Chinese run (a lone character stands for
    itself) and whole Latin/digit runs (place codes such as A2, numbers)."""
    out: list[str] = []
    for run in _RUN.findall(clean(text).lower()):
        if run[0] < "\u4e00" or len(run) == 1:  # a Latin/digit run, or a lone character
            out.append(run)
        else:
            out.extend(run[i : i + 2] for i in range(len(run) - 1))
    return out


@dataclass(frozen=True, eq=False)
class RelevanceStats:
    """Document frequencies and per-category weights of bigrams, learned from messages."""

    documents: int
    df: dict[str, int]
    labels: tuple[str, ...]
    topic: dict[str, tuple[float, ...]]  # bigram → log-odds per label (only informative ones)
    lexical_scale: float = 0.2  # a bigram cosine at or above this counts as full overlap
    topic_weight: float = 0.2

    def idf(self, term: str) -> float:
        return self.idf_table.get(term, self.idf_unseen)

    @cached_property
    def idf_table(self) -> dict[str, float]:
        n = self.documents + 1
        return {g: math.log(n / (c + 1)) + 1.0 for g, c in self.df.items()}

    @cached_property
    def idf_unseen(self) -> float:
        return math.log(self.documents + 1) + 1.0

    @classmethod
    def build(
        cls,
        texts: Iterable[str],
        labelled: Iterable[tuple[str, str]] = (),
        *,
        min_df: int = 2,
        min_topic_df: int = 5,
        min_log_odds: float = 0.7,
    ) -> RelevanceStats:
        """Learn the statistics from raw texts (IDF) and (text, label) pairs (topics)."""
        df: Counter[str] = Counter()
        n = 0
        for text in texts:
            df.update(set(grams(text)))
            n += 1
        labelled = list(labelled)
        labels = tuple(sorted({label for _, label in labelled}))
        per: dict[str, list[int]] = {}
        totals = [0] * len(labels)
        for text, label in labelled:
            k = labels.index(label)
            totals[k] += 1
            for g in set(grams(text)):
                per.setdefault(g, [0] * len(labels))[k] += 1
        topic: dict[str, tuple[float, ...]] = {}
        for g, counts in per.items():
            if sum(counts) < min_topic_df:
                continue
            logp = [math.log((c + 1) / (t + 2)) for c, t in zip(counts, totals, strict=True)]
            mean = math.log(sum(math.exp(v) for v in logp) / len(logp))
            odds = tuple(round(v - mean, 2) for v in logp)
            if max(abs(v) for v in odds) >= min_log_odds:
                topic[g] = odds
        kept = {g: c for g, c in df.items() if c >= min_df}
        return cls(documents=n, df=kept, labels=labels, topic=topic)

    def save(self, path: Path) -> None:
        with gzip.open(path, "wt", encoding="utf-8", compresslevel=9) as fh:
            fh.write(f"#documents\t{self.documents}\n#labels\t{','.join(self.labels)}\n")
            fh.write(f"#lexical_scale\t{self.lexical_scale}\n#topic_weight\t{self.topic_weight}\n")
            for g in sorted(set(self.df) | set(self.topic)):
                odds = self.topic.get(g)
                fh.write(f"{g}\t{self.df.get(g, 0)}\t{','.join(f'{v:g}' for v in odds) if odds else ''}\n")

    @classmethod
    def load(cls, path: Path) -> RelevanceStats:
        meta: dict[str, str] = {}
        df: dict[str, int] = {}
        topic: dict[str, tuple[float, ...]] = {}
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                parts = line.rstrip("\n").split("\t")
                if parts[0].startswith("#"):
                    meta[parts[0][1:]] = parts[1]
                    continue
                g, count, odds = parts
                if int(count):
                    df[g] = int(count)
                if odds:
                    topic[g] = tuple(float(v) for v in odds.split(","))
        return cls(
            documents=int(meta["documents"]),
            df=df,
            labels=tuple(meta["labels"].split(",")),
            topic=topic,
            lexical_scale=float(meta.get("lexical_scale", 0.2)),
            topic_weight=float(meta.get("topic_weight", 0.2)),
        )


@lru_cache(maxsize=1)
def default_stats() -> RelevanceStats:
    """The statistics shipped with Minyi (see docs/quality-screening.md for their source)."""
    return RelevanceStats.load(STATS_PATH)


@dataclass(frozen=True)
class _Profile:
    vector: dict[str, float]  # L2-normalised TF-IDF of bigrams
    topic: tuple[float, ...] | None  # distribution over the stats' labels


def _profile(text: str, stats: RelevanceStats) -> _Profile:
    """TF-IDF vector and topic of a text."""
    tf = Counter(grams(text))
    idf = stats.idf_table.get
    unseen = stats.idf_unseen
    log = math.log
    weights = {g: (1.0 + log(c)) * idf(g, unseen) if c > 1 else idf(g, unseen) for g, c in tf.items()}
    norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
    vector = {g: w / norm for g, w in weights.items()}
    topic = stats.topic.get
    found = [odds for odds in map(topic, tf) if odds is not None]
    hits = len(found)
    if not hits:
        return _Profile(vector, None)
    sums = [sum(column) for column in zip(*found, strict=True)]
    scale = math.sqrt(hits)
    top = max(sums)
    exps = [math.exp((s - top) / scale) for s in sums]
    total = sum(exps)
    return _Profile(vector, tuple(e / total for e in exps))


def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(w * b.get(g, 0.0) for g, w in a.items())


def _topic_agreement(a: tuple[float, ...] | None, b: tuple[float, ...] | None) -> float:
    if a is None or b is None:
        return 0.0
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    na = math.sqrt(sum(x * x for x in a))
    nb = math.sqrt(sum(y * y for y in b))
    return dot / (na * nb) if na and nb else 0.0


def _relevance(a: _Profile, b: _Profile, stats: RelevanceStats) -> float:
    lexical = min(1.0, _cosine(a.vector, b.vector) / stats.lexical_scale)
    score = (1.0 - stats.topic_weight) * lexical + stats.topic_weight * _topic_agreement(a.topic, b.topic)
    return max(0.0, min(1.0, score))


def relevance(request_text: str, reply_text: str, *, stats: RelevanceStats | None = None) -> float:
    """How much the reply is about what the request is about, 0 (nothing in common) to 1."""
    st = stats or default_stats()
    return _relevance(_profile(request_text, st), _profile(reply_text, st), st)


def request_similarity(a: str, b: str, *, stats: RelevanceStats | None = None) -> float:
    """The same measure between two requests (are they about the same thing?)."""
    return relevance(a, b, stats=stats)


def missing_keywords(request_text: str, reply_text: str, *, limit: int = 5, stats: RelevanceStats | None = None) -> tuple[str, ...]:
    """The request's most distinctive words (jieba) that the reply never mentions."""
    from minyi.assist.text import words

    st = stats or default_stats()
    reply = clean(reply_text).lower()
    idf: dict[str, float] = {}
    weight: dict[str, float] = {}
    for w in words(request_text):
        if len(w) < 2 or w in reply or not re.search(r"[\u4e00-\u9fff]", w):
            continue
        if w not in idf:
            parts = grams(w)
            idf[w] = sum(st.idf(g) for g in parts) / max(1, len(parts))
        weight[w] = weight.get(w, 0.0) + idf[w]  # term frequency × IDF in the request
    ranked = sorted(weight, key=lambda w: (-weight[w], w))
    return tuple(ranked[:limit])


# --------------------------------------------------------------------------------------------
# Pasted replies
# --------------------------------------------------------------------------------------------

_DATE_ANY = re.compile(r"\d{2,4}\s*[年.\-/]\s*\d{1,2}\s*[月.\-/]\s*\d{1,2}\s*日?")


@lru_cache(maxsize=2048)
def shingles(reply_text: str) -> frozenset[str]:
    """Character 3-grams of the reply without the requester's handle and dates."""
    text = _DATE_ANY.sub(" ", _HANDLE.sub(" ", _normalise(reply_text)))
    s = "".join(_MEANINGFUL.findall(text.lower()))
    if len(s) < 3:
        return frozenset({s}) if s else frozenset()
    return frozenset(s[i : i + 3] for i in range(len(s) - 2))


def text_similarity(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


# --------------------------------------------------------------------------------------------
# Screening
# --------------------------------------------------------------------------------------------


def screen(
    request_text: str,
    reply_text: str,
    *,
    other_replies: Sequence[tuple[str, str]] = (),
    thresholds: Thresholds | None = None,
    stats: RelevanceStats | None = None,
) -> Screening:
    """Screen one reply. `other_replies` are (request_text, reply_text) of other recent replies
    by the same unit, for the pasted rule."""
    t = thresholds or Thresholds()
    st = stats or default_stats()
    findings: list[Finding] = []

    request_profile = _profile(request_text, st)
    score = _relevance(request_profile, _profile(reply_text, st), st)

    boilerplate = perfunctory_reason(reply_text, t)
    if boilerplate is not None:
        findings.append(Finding(PERFUNCTORY, REASONS[PERFUNCTORY], boilerplate))
    elif score < t.relevance_min:
        findings.append(
            Finding(IRRELEVANT, REASONS[IRRELEVANT], missing_keywords(request_text, reply_text, stats=st))
        )

    if other_replies:
        mine = shingles(reply_text)
        same: list[int] = []
        for i, (other_request, other_reply) in enumerate(other_replies):
            if text_similarity(mine, shingles(other_reply)) < t.duplicate_similarity:
                continue
            if _relevance(request_profile, _profile(other_request, st), st) < t.unrelated_request_max:
                same.append(i)
        if same:
            excerpt = clean(reply_text)[:40]
            findings.append(Finding(PASTED, REASONS[PASTED], (excerpt,), others=tuple(same)))

    promises = undated_promises(reply_text)
    if promises:
        findings.append(Finding(UNDATED_PROMISE, REASONS[UNDATED_PROMISE], promises))

    perfunctory = any(f.code in (PERFUNCTORY, PASTED) for f in findings)
    return Screening(relevance=round(score, 4), perfunctory=perfunctory, findings=tuple(findings))
